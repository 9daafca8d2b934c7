using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Xunit.Abstractions;

namespace FastSpool.Server.Tests;

/// <summary>A message deferred for long does not pin the queue log: it is copied forward, and space behind it is
/// reclaimed while mail flows.</summary>
public sealed class QueueSpaceTests(ITestOutputHelper output)
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

    /// <summary>A client within every limit that keeps a message open (a short BDAT chunk, or a line of DATA, every
    /// 100 ms) while
    /// 150 messages of 100 KB come and go on another connection: the log's space afterwards stays within one segment
    /// of what it is without that client, and its message, whose first part was written to the log long before, is
    /// delivered whole when it ends.</summary>
    [Theory]
    [InlineData("BDAT")]
    [InlineData("DATA")]
    public async Task AMessageStillBeingReceivedDoesNotKeepQueueSpaceFromBeingReclaimed(string command)
    {
        const long segment = 1L << SmallSegmentBits;
        QueueSpace without = await FlowPastAsync(slowCommand: null, settleTo: long.MaxValue);
        QueueSpace with = await FlowPastAsync(slowCommand: command, settleTo: without.Settled + segment);
        output.WriteLine($"queue space without a slow {command} client: at most {without.Most}, settled {without.Settled}; with one: at most {with.Most}, settled {with.Settled}");
        Assert.True(with.Settled <= without.Settled + segment,
            $"queue space after the flow: {with.Settled} bytes with a slow client, {without.Settled} without (most during it: {with.Most} and {without.Most})");
        // During the flow the slow client's chunks trail the tail by up to a segment, plus what flows past between
        // two of its chunks (it moves them when it next sends) and the segment they started in.
        Assert.True(with.Most <= without.Most + 3 * segment,
            $"queue space during the flow: at most {with.Most} bytes with a slow client, {without.Most} without");
    }

    private const int SmallSegmentBits = 20; // 1 MiB segments and pages: the scaled-down geometry of the finding

    /// <summary>Queue space (bytes of segment files) at most during a flow of mail and once it has settled.</summary>
    private readonly record struct QueueSpace(long Most, long Settled);

    private static async Task<QueueSpace> FlowPastAsync(string? slowCommand, long settleTo)
    {
        await using TestServer server = await TestServer.StartAsync(o =>
        {
            o.Queue.SegmentSizeBits = SmallSegmentBits;
            o.Queue.PageSizeBits = SmallSegmentBits;
            o.Smtp.Timeout = TimeSpan.FromSeconds(30);
            o.Smtp.MinDataRate = 500; // the default: the slow client keeps above it with its first part
        });
        string queueDirectory = server.Options.QueueDirectory;

        // The slow client's first part is more than a chunk, so that part of it is in the log from the start.
        string opening = "Subject: slow\r\n\r\n" + string.Concat(Enumerable.Range(0, 4000).Select(i => $"opening line {i:D5} " + new string('o', 60) + "\r\n"));
        var trickled = new System.Text.StringBuilder();
        RawSmtp? slow = null;
        Task? trickle = null;
        using var stop = new CancellationTokenSource();
        bool bdat = slowCommand == "BDAT";
        if (slowCommand is not null)
        {
            slow = await SmtpDialog.OpenAsync(server);
            if (bdat)
            {
                await slow.SendAsync($"MAIL FROM:<carol@example.org>\r\nRCPT TO:<bob@localhost>\r\nBDAT {opening.Length}\r\n{opening}");
                await SmtpDialog.ExpectLineAsync(slow, "250 2.1.0 Ok");
                await SmtpDialog.ExpectLineAsync(slow, "250 2.1.5 Ok");
                await SmtpDialog.ExpectLineAsync(slow, $"250 2.0.0 Ok: {opening.Length} octets received");
            }
            else
            {
                await SmtpDialog.StartDataAsync(slow, "bob@localhost");
                await slow.SendAsync(opening);
            }
            trickle = TrickleAsync(slow, bdat, trickled, stop.Token);
        }

        string body = string.Concat(Enumerable.Repeat(new string('x', 99) + "\n", 1000)); // 100 KB
        const int count = 150;
        long most = 0;
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
            for (int i = 0; i < count; i++)
            {
                await client.SendAsync(TestMessage.Create("flow " + i, body));
                most = Math.Max(most, SegmentBytes(queueDirectory));
            }
            await client.DisconnectAsync(true);
        }
        await Mailbox.WaitForAsync(server.MailboxPath("alice"), count, TimeSpan.FromSeconds(60));
        await server.WaitForIdleQueueAsync();
        if (slow is not null)
        {
            await Wait.UntilAsync(() => SegmentBytes(queueDirectory) <= settleTo, TimeSpan.FromSeconds(10),
                $"queue space to come down to {settleTo} bytes while a message is still being received",
                () => $"{SegmentBytes(queueDirectory)} bytes in segment files, log from {server.Server.Queue.Log.BeginAddress} to {server.Server.Queue.Log.TailAddress}");
        }
        FastSpool.Queue.IQueueLog log = server.Server.Queue.Log;
        await Wait.UntilAsync(() => Segments(queueDirectory) <= (log.TailAddress >> SmallSegmentBits) - (log.BeginAddress >> SmallSegmentBits) + 1,
            because: "the segment files below the log's begin address to be deleted",
            observed: () => $"{Segments(queueDirectory)} segment files, log from {log.BeginAddress} to {log.TailAddress}");
        long settled = SegmentBytes(queueDirectory);

        if (slow is not null)
        {
            await stop.CancelAsync();
            await trickle!;
            await slow.SendAsync(bdat ? "BDAT 15 LAST\r\nthe last line\r\n" : "the last line\r\n.\r\n");
            Assert.Matches("^250 2.0.0 Ok: queued as [0-9A-F]{13}$", await slow.ReadLineAsync(SmtpDialog.ReplyTimeout));
            slow.Dispose();
            var (_, message) = Assert.Single(await server.DeliveredAsync("bob", 1));
            string expected = opening[(opening.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..] + trickled + "the last line\r\n";
            Assert.Equal("slow", message.Subject);
            // The mbox's blank line after the message is read back as part of the text: compare up to it.
            Assert.Equal(expected.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd(), (message.TextBody ?? "").Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd());
        }
        return new QueueSpace(most, settled);
    }

    /// <summary>A slow client within the limits: one short BDAT chunk, or one line of DATA, every 100 ms. The pause is
    /// the client's pace, what the test is about, not a wait for work.</summary>
    private static async Task TrickleAsync(RawSmtp slow, bool bdat, System.Text.StringBuilder trickled, CancellationToken stop)
    {
        for (int i = 0; !stop.IsCancellationRequested; i++)
        {
            string line = $"tick {i:D5}\r\n";
            if (bdat)
            {
                await slow.SendAsync($"BDAT {line.Length}\r\n{line}");
                await SmtpDialog.ExpectLineAsync(slow, $"250 2.0.0 Ok: {line.Length} octets received");
            }
            else
            {
                await slow.SendAsync(line);
            }
            trickled.Append(line);
            try
            {
                await Task.Delay(100, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static long SegmentBytes(string queueDirectory)
    {
        long total = 0;
        foreach (string file in Directory.GetFiles(queueDirectory, "q.log.*"))
        {
            try
            {
                total += new FileInfo(file).Length;
            }
            catch (FileNotFoundException)
            {
                // deleted by truncation between the listing and the look
            }
        }
        return total;
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
