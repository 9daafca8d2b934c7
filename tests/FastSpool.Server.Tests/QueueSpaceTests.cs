using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace FastSpool.Server.Tests;

/// <summary>A message deferred for long does not pin the queue log: it is copied forward, and space behind it is
/// reclaimed while mail flows.</summary>
public sealed class QueueSpaceTests
{
    private const int SegmentSizeBits = 22; // 4 MiB segments (TestServer's geometry)

    [Fact]
    public async Task ADeferredMessageIsCopiedForwardSoTheLogStaysBoundedWhileTenSegmentsOfMailFlowPast()
    {
        TestServer server = await TestServer.StartAsync(o => o.Queue.SegmentSizeBits = SegmentSizeBits);
        server.KeepData = true;
        string queueDirectory = server.Options.QueueDirectory;
        Directory.CreateDirectory(server.MailDirectory);
        string lockPath = server.MailboxPath("bob") + ".lock";
        await File.WriteAllTextAsync(lockPath, Environment.ProcessId + "\n");

        string body = string.Concat(Enumerable.Repeat("the deferred one 0123456789 abcdefghijklmnopqrstuvwxyz\n", 20_000)); // ~1.1 MB: chunks
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
        await client.SendAsync(TestMessage.Create("deferred", body, to: "bob@localhost"));
        await Wait.UntilAsync(() => server.Server.Manager.Find(server.Server.Manager.List()[0].Id)?.Recipients[0].Status == FastSpool.Queue.RecipientStatus.Deferred,
            because: "the message to the locked mailbox to be deferred");

        // Ten segments' worth of mail for alice flows through while bob's message waits.
        long segment = 1L << SegmentSizeBits;
        string filler = new('x', 1000);
        string big = string.Concat(Enumerable.Repeat(filler + "\n", 500)); // ~500 KB a message
        int count = (int)(10 * segment / big.Length) + 1;
        int mostSegments = 0;
        for (int i = 0; i < count; i++)
        {
            await client.SendAsync(TestMessage.Create("flow " + i, big));
            mostSegments = Math.Max(mostSegments, Segments(queueDirectory));
        }
        await client.DisconnectAsync(true);
        // Not DeliveredAsync: the queue is not idle while bob's message waits.
        await Wait.UntilAsync(() => Mailbox.CountSeparators(server.MailboxPath("alice")) >= count, TimeSpan.FromSeconds(60),
            because: "the flow of mail to alice to be delivered");
        await Wait.UntilAsync(() => server.QueuedMessages == 1, because: "only the deferred message to be left in the queue");
        Assert.Equal(count, Mailbox.Read(server.MailboxPath("alice")).Count);
        await Wait.UntilAsync(() => Segments(queueDirectory) <= 4, because: "space behind the deferred message to be reclaimed",
            observed: () => $"{Segments(queueDirectory)} segment files");
        Assert.True(mostSegments <= 6, $"the log grew to {mostSegments} segments of {segment} bytes while one message was deferred");

        // After a restart the message is recovered from its copy (the original's segments are gone) with its state;
        // held first, so that no retry changes that state in between.
        string id = server.Server.Manager.List().Single().Id;
        await server.Server.Manager.HoldAsync([id], "test");
        await server.WaitForIdleQueueButHeldAsync(1); // an attempt under way when the hold came still counts
        var before = server.Server.Manager.List().Single();
        await server.DisposeAsync();
        await using TestServer restarted = await TestServer.StartAsync(dataDirectory: server.Options.DataDirectory);
        var after = Assert.Single(restarted.Server.Manager.List());
        Assert.Equal(before.Id, after.Id);
        Assert.Equal(FastSpool.Queue.RecipientStatus.Deferred, after.Recipients[0].Status);
        Assert.Equal(before.Recipients[0].Attempts, after.Recipients[0].Attempts);
        Assert.Equal(before.Recipients[0].LastReply, after.Recipients[0].LastReply);
        Assert.True(after.Held);

        // The copy is the message: it is delivered once, whole, when the mailbox is free.
        File.Delete(lockPath);
        await restarted.Server.Manager.ReleaseAsync([id], "test");
        restarted.Server.Manager.RetryAll();
        List<(string Marker, MimeMessage Message)> bob = await restarted.DeliveredAsync("bob", 1);
        Assert.Equal("deferred", bob[0].Message.Subject);
        Assert.Equal(body.TrimEnd(), (bob[0].Message.TextBody ?? "").Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd());
    }

    [Theory]
    [InlineData("DATA")]
    [InlineData("BDAT")]
    public async Task TextPastTheSizeLimitIsReadAndDroppedNotWrittenToTheQueue(string command)
    {
        const int limit = 300 * 1024; // more than one chunk: a chunk is written before the limit is reached
        await using TestServer server = await TestServer.StartAsync(o => o.Smtp.MaxMessageSize = limit);
        string text = "Subject: " + SmtpDialog.RefusedSubject + " five times the limit\r\n\r\n"
            + string.Concat(Enumerable.Repeat(new string('x', 78) + "\r\n", 5 * limit / 80));
        long tailBefore = server.Server.Queue.Log.TailAddress;
        using (RawSmtp raw = await SmtpDialog.OpenAsync(server))
        {
            if (command == "DATA")
            {
                await SmtpDialog.StartDataAsync(raw);
                await raw.SendAsync(text + ".\r\n");
            }
            else
            {
                await raw.SendAsync($"MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\nBDAT {text.Length} LAST\r\n");
                await SmtpDialog.ExpectLineAsync(raw, "250 2.1.0 Ok");
                await SmtpDialog.ExpectLineAsync(raw, "250 2.1.5 Ok");
                await raw.SendAsync(text);
            }
            await SmtpDialog.ExpectLineAsync(raw, "552 5.3.4 Error: message file too big");
            long written = server.Server.Queue.Log.TailAddress - tailBefore;
            Assert.True(written < limit, $"the queue log grew by {written} octets for a refused message of {text.Length} octets (limit {limit})");

            await SmtpDialog.SendGoodMessageAsync(raw, "after the refusal", "alice");
        }
        var (_, message) = Assert.Single(await server.DeliveredAsync("alice", 1));
        Assert.Equal("after the refusal", message.Subject);
    }

    private static int Segments(string queueDirectory) => Directory.GetFiles(queueDirectory, "q.log.*").Length;
}
