using System.Text;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace FastSpool.Server.Tests;

/// <summary>End to end over loopback: MailKit sends, MimeKit's mbox parser reads the mailbox back.</summary>
public sealed class SmtpDeliveryTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<SmtpClient> ConnectAsync()
    {
        var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", _server.Port, SecureSocketOptions.None);
        return client;
    }

    private static MimeMessage Message(string subject, string body, string to = "alice@localhost") =>
        TestMessage.Create(subject, body, to);

    private static string Normalize(string? text) => (text ?? "").Replace("\r\n", "\n");

    /// <summary>The last message of an mbox file keeps the blank separator line in MimeKit's reading of it.</summary>
    private static void AssertLastBody(string expected, string? actual)
    {
        string text = Normalize(actual);
        Assert.Equal(expected, text.EndsWith("\n\n", StringComparison.Ordinal) && !expected.EndsWith("\n\n", StringComparison.Ordinal) ? text[..^1] : text);
    }

    [Fact]
    public async Task SmallMessagesAreDeliveredFromMemoryAndTheCopyIsReleasedOnceFinished()
    {
        using SmtpClient client = await ConnectAsync();
        for (int i = 0; i < 3; i++)
            await client.SendAsync(Message("resident " + i, $"body {i}\n"));
        await client.DisconnectAsync(true);

        List<(string Marker, MimeMessage Message)> delivered = await _server.DeliveredAsync("alice", 3);
        Assert.Equal(["resident 0", "resident 1", "resident 2"], delivered.Select(m => m.Message.Subject));
        Assert.True(_server.Server.Queue.ResidentReads >= 3, $"only {_server.Server.Queue.ResidentReads} bodies were read from memory");
        await Wait.UntilAsync(() => _server.Server.Queue.ResidentBytes == 0, TimeSpan.FromSeconds(10), "finished messages to leave memory",
            () => $"{_server.Server.Queue.ResidentBytes} bytes of finished messages are still held in memory");
    }

    [Fact]
    public async Task PlainTextArrivesInTheMailboxWithEnvelopeHeaders()
    {
        using SmtpClient client = await ConnectAsync();
        string response = await client.SendAsync(Message("plain", "Hello Alice,\nthis is a test.\n"));
        Assert.Matches("^2.0.0 Ok: queued as [0-9A-F]{13}$", response);
        await client.DisconnectAsync(true);

        var (marker, message) = Assert.Single(await _server.DeliveredAsync("alice", 1));
        Assert.StartsWith("From bob@example.org  ", marker);
        Assert.Equal("plain", message.Subject);
        Assert.Equal("<bob@example.org>", message.Headers["Return-Path"]);
        Assert.Equal("alice@localhost", message.Headers["Delivered-To"]);
        string id = response[^13..];
        Assert.Contains("id " + id, message.Headers["Received"]);
        Assert.Contains("by mx.example.test (FastSpool) with ESMTP", message.Headers["Received"]);
        AssertLastBody("Hello Alice,\nthis is a test.\n", message.TextBody);
    }

    [Fact]
    public async Task EightBitUtf8LeadingDotsAndFromLinesSurvive()
    {
        const string body = "Grüße aus Köln — ünïcödé ✓\n.leading dot\n..two dots\n.\nFrom the start of a line\n>From already quoted\nend\n";
        using SmtpClient client = await ConnectAsync();
        var message = Message("Grüße", body);
        ((TextPart)message.Body!).ContentTransferEncoding = ContentEncoding.EightBit;
        await client.SendAsync(message);
        await client.DisconnectAsync(true);

        var (_, received) = Assert.Single(await _server.DeliveredAsync("alice", 1));
        Assert.Equal("Grüße", received.Subject);
        // mboxo quoting: "From " lines come back as ">From "; everything else is identical.
        string expected = body.Replace("\nFrom the start", "\n>From the start");
        AssertLastBody(expected, received.TextBody);
    }

    [Fact]
    public async Task TwentyMegabyteAttachmentIsDeliveredIntact()
    {
        byte[] data = new byte[20 * 1024 * 1024];
        new Random(42).NextBytes(data);
        var builder = new BodyBuilder { TextBody = "see attachment\n" };
        builder.Attachments.Add("blob.bin", data);
        var message = Message("big", "");
        message.Body = builder.ToMessageBody();
        using SmtpClient client = await ConnectAsync();
        await client.SendAsync(message);
        await client.DisconnectAsync(true);

        var (_, received) = Assert.Single(await _server.DeliveredAsync("alice", 1, TimeSpan.FromSeconds(60)));
        MimePart attachment = Assert.Single(received.Attachments.OfType<MimePart>());
        using var stream = new MemoryStream();
        await attachment.Content!.DecodeToAsync(stream);
        Assert.Equal(data, stream.ToArray());
    }

    [Fact]
    public async Task OneHundredRecipientsEachGetTheirCopy()
    {
        for (int i = 0; i < 100; i++)
            new FastSpool.Users.UserStore(_server.Options.DataDirectory).Add($"user{i}", null);
        await _server.WaitUntilDeliverableAsync("user99");
        var message = Message("many", "to all of you\n");
        message.To.Clear();
        for (int i = 0; i < 100; i++)
            message.To.Add(MailboxAddress.Parse($"user{i}@example.test"));
        using SmtpClient client = await ConnectAsync();
        await client.SendAsync(message);
        await client.DisconnectAsync(true);

        for (int i = 0; i < 100; i++)
        {
            var (_, received) = Assert.Single(await _server.DeliveredAsync($"user{i}", 1));
            Assert.Equal("many", received.Subject);
            Assert.Equal($"user{i}@example.test", received.Headers["Delivered-To"]);
        }
    }

    [Fact]
    public async Task PipelinedTransactionsOnOneConnectionAreAllDelivered()
    {
        using SmtpClient client = await ConnectAsync();
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Pipelining));
        for (int i = 0; i < 50; i++)
            await client.SendAsync(Message($"msg {i}", $"number {i}\n", i % 2 == 0 ? "alice@localhost" : "bob@example.test"));
        await client.DisconnectAsync(true);

        var alice = await _server.DeliveredAsync("alice", 25);
        var bob = await _server.DeliveredAsync("bob", 25);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"msg {2 * i}"), alice.Select(m => m.Message.Subject));
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"msg {(2 * i) + 1}"), bob.Select(m => m.Message.Subject));
    }

    [Fact]
    public async Task BinaryChunkingIsUsedForBinaryContentAndDelivered()
    {
        // MailKit sends BDAT when the server offers CHUNKING and the message needs it; force it with raw BDAT too.
        using var raw = await RawSmtp.ConnectAsync(_server.Port);
        await raw.ExpectAsync("220 ");
        await raw.SendAsync("EHLO client.test\r\n");
        await raw.ExpectAsync("250 CHUNKING");
        await raw.SendAsync("MAIL FROM:<bob@example.org> BODY=8BITMIME\r\nRCPT TO:<alice@localhost>\r\n");
        await raw.ExpectAsync("250 2.1.0 Ok");
        await raw.ExpectAsync("250 2.1.5 Ok");
        string part1 = "Subject: chunked\r\n\r\nfirst part, ";
        string part2 = "second part\r\n.not a terminator\r\n";
        await raw.SendAsync($"BDAT {Encoding.UTF8.GetByteCount(part1)}\r\n{part1}");
        await raw.ExpectAsync($"250 2.0.0 Ok: {Encoding.UTF8.GetByteCount(part1)} octets received");
        await raw.SendAsync($"BDAT {Encoding.UTF8.GetByteCount(part2)} LAST\r\n{part2}");
        string queued = await raw.ExpectAsync("250 2.0.0 Ok: queued as ");
        await raw.SendAsync("QUIT\r\n");
        await raw.ExpectAsync("221 ");

        var (_, received) = Assert.Single(await _server.DeliveredAsync("alice", 1));
        Assert.Equal("chunked", received.Subject);
        AssertLastBody("first part, second part\n.not a terminator\n", received.TextBody);
        Assert.Contains(queued[^13..], received.Headers["Received"]);
    }

    [Fact]
    public async Task PostmasterIsAlwaysAccepted()
    {
        using SmtpClient client = await ConnectAsync();
        await client.SendAsync(Message("to postmaster", "hi\n", "postmaster@localhost"));
        await client.DisconnectAsync(true);
        var (_, received) = Assert.Single(await _server.DeliveredAsync("postmaster", 1));
        Assert.Equal("to postmaster", received.Subject);
    }

    [Fact]
    public async Task AliasesDeliverToEveryTarget()
    {
        await File.WriteAllTextAsync(Path.Combine(_server.Options.DataDirectory, "aliases"), "# team\nteam: alice,\n  bob\n");
        await _server.WaitUntilDeliverableAsync("team");
        using SmtpClient client = await ConnectAsync();
        await client.SendAsync(Message("team mail", "hi team\n", "team@localhost"));
        await client.DisconnectAsync(true);
        Assert.Equal("team mail", Assert.Single(await _server.DeliveredAsync("alice", 1)).Message.Subject);
        Assert.Equal("team mail", Assert.Single(await _server.DeliveredAsync("bob", 1)).Message.Subject);
    }

    [Fact]
    public async Task ALockedMailboxIsRetriedUntilItIsFree()
    {
        string path = _server.MailboxPath("alice");
        Directory.CreateDirectory(_server.MailDirectory);
        string dotlock = path + ".lock";
        await File.WriteAllTextAsync(dotlock, "held by a mail reader");
        using SmtpClient client = await ConnectAsync();
        await client.SendAsync(Message("waits", "for the lock\n"));
        await client.DisconnectAsync(true);

        // While the lock is held nothing is written, and the message stays queued. The second watched is what the
        // test is about, not a wait for work: with retries every 200 ms to 1 s the server tries several times in it.
        await Wait.ThroughoutAsync(() => Mailbox.CountSeparators(path) == 0, TimeSpan.FromSeconds(1), "an empty mailbox while its lock is held");
        Assert.Equal(1, _server.QueuedMessages);
        File.Delete(dotlock);
        Assert.Equal("waits", Assert.Single(await _server.DeliveredAsync("alice", 1)).Message.Subject);
    }

    [Fact]
    public async Task QueueSpaceIsReclaimedAsMessagesAreDelivered()
    {
        string queue = _server.Options.QueueDirectory;
        using (SmtpClient client = await ConnectAsync())
        {
            string body = new string('x', 76) + "\n";
            body = string.Concat(Enumerable.Repeat(body, 4000)); // about 300 KiB
            for (int i = 0; i < 50; i++)
                await client.SendAsync(Message($"bulk {i}", body));
            await client.DisconnectAsync(true);
        }
        await _server.DeliveredAsync("alice", 50, TimeSpan.FromSeconds(60));
        // 15 MB went through 4 MiB segments; once everything is delivered at most the segment in use is kept.
        await Wait.UntilAsync(() => Directory.GetFiles(queue, "q.log.*").Length <= 2, TimeSpan.FromSeconds(30), "the queue to delete the segments it no longer needs",
            () => $"segments left: {string.Join(", ", Directory.GetFiles(queue, "q.log.*").Select(Path.GetFileName))}");
    }
}
