using System.Diagnostics;
using System.Text;
using FastSpool.Configuration;
using FastSpool.Server.Tests.Support;
using FastSpool.Users;
using Microsoft.Extensions.Logging;
using MimeKit;
using static FastSpool.Server.Tests.Support.SmtpDialog;

namespace FastSpool.Server.Tests;

/// <summary>The session limits (Smtp options) and protocol synchronization, each with a server configured for
/// the test: message size, recipients, errors, timeouts, data rate, hop count, and clients that do not wait for
/// replies (RFC 5321 §4.3.1, §4.5.3; RFC 1870; RFC 2920; RFC 3030).</summary>
public sealed class SmtpSessionLimitTests
{
    private const string ProtocolSynchronization = "554 5.5.0 Error: SMTP protocol synchronization";
    private const string TimeoutExceeded = "421 4.4.2 mx.example.test Error: timeout exceeded";
    private const string MessageFileTooBig = "552 5.3.4 Error: message file too big";

    private static Task<TestServer> StartAsync(Action<SmtpOptions>? configure = null) =>
        TestServer.StartAsync(o => configure?.Invoke(o.Smtp));

    /// <summary>A message of exactly <paramref name="size"/> octets as RFC 1870 counts them: with its CRLFs,
    /// without the final <c>.CRLF</c>.</summary>
    private static string MessageOfSize(string subject, int size)
    {
        var text = new StringBuilder($"Subject: {subject}\r\n\r\n");
        int body = size - text.Length;
        Assert.True(body > 80);
        // Lines of 80 octets; a remainder of one octet goes into the first line, as no line is shorter than CRLF.
        int lines = body / 80;
        int rest = body % 80;
        for (int i = 0; i < lines; i++)
            text.Append('x', i == 0 && rest == 1 ? 79 : 78).Append("\r\n");
        if (rest >= 2)
            text.Append('y', rest - 2).Append("\r\n");
        string message = text.ToString();
        Assert.Equal(size, Encoding.ASCII.GetByteCount(message));
        return message;
    }

    [Fact]
    public async Task MessageOverTheSizeLimitIsRefusedAfterTheDotAndTheSessionGoesOn()
    {
        await using TestServer server = await StartAsync(o => o.MaxMessageSize = 2048);
        string atLimit = "at the limit " + Guid.NewGuid().ToString("N");
        string after = "after the refusal " + Guid.NewGuid().ToString("N");
        using (RawSmtp raw = await RawSmtp.ConnectAsync(server.Port))
        {
            await ExpectLineAsync(raw, "220 mx.example.test ESMTP FastSpool");
            await raw.SendAsync("EHLO client.test\r\n");
            await raw.ExpectAsync("250-SIZE 2048");
            await raw.ExpectAsync("250 CHUNKING");

            await StartDataAsync(raw);
            await raw.SendAsync(MessageOfSize(atLimit, 2048) + ".\r\n");
            Assert.Matches("^250 2.0.0 Ok: queued as ", await raw.ReadLineAsync(ReplyTimeout));

            await StartDataAsync(raw);
            await raw.SendAsync(MessageOfSize(RefusedSubject + " one octet over", 2049) + ".\r\n");
            await ExpectLineAsync(raw, MessageFileTooBig);

            // Far over the limit: the rest is read and dropped while streaming, and the answer is the same.
            await StartDataAsync(raw);
            await raw.SendAsync(MessageOfSize(RefusedSubject + " far over", 300_000) + ".\r\n");
            await ExpectLineAsync(raw, MessageFileTooBig);

            await SendGoodMessageAsync(raw, after, "alice");
        }
        List<MimeMessage> messages = await WaitForSubjectAsync(server, "alice", after);
        Assert.Equal(new string?[] { atLimit, after }, messages.Select(m => m.Subject));
    }

    [Fact]
    public async Task BdatOverTheSizeLimitIsRefusedAndTheRestOfTheTransactionIsDiscarded()
    {
        await using TestServer server = await StartAsync(o => o.MaxMessageSize = 2048);
        using (RawSmtp raw = await OpenAsync(server))
        {
            string last = MessageOfSize(RefusedSubject + " bdat last", 3000);
            await raw.SendAsync($"MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\nBDAT {last.Length} LAST\r\n{last}");
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await ExpectLineAsync(raw, MessageFileTooBig);

            // RFC 3030 §2: after a failed chunk the chunks already pipelined are discarded, not taken as a new message.
            string first = MessageOfSize(RefusedSubject + " bdat chunk", 3000);
            const string tail = "more text\r\n";
            await raw.SendAsync($"MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\nBDAT {first.Length}\r\n{first}BDAT {tail.Length} LAST\r\n{tail}");
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await ExpectLineAsync(raw, MessageFileTooBig);
            await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");

            await raw.SendAsync("NOOP\r\n");
            await ExpectLineAsync(raw, "250 2.0.0 Ok");
        }
        await AssertOnlyGoodMailDeliveredAsync(server, "alice");
    }

    [Theory]
    [InlineData("2049")]
    [InlineData("99999999999999999999999")]
    public async Task DeclaredSizeOverTheLimitIsRefusedAtMail(string size)
    {
        await using TestServer server = await StartAsync(o => o.MaxMessageSize = 2048);
        using RawSmtp raw = await OpenAsync(server);
        await raw.SendAsync($"MAIL FROM:<a@b> SIZE={size}\r\n");
        await ExpectLineAsync(raw, "552 5.3.4 Message size exceeds fixed limit");
        await raw.SendAsync("RCPT TO:<alice@localhost>\r\n");
        await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
        await raw.SendAsync("MAIL FROM:<a@b> SIZE=2048\r\n");
        await ExpectLineAsync(raw, "250 2.1.0 Ok");
    }

    [Fact]
    public async Task FourthRecipientGetsTooManyRecipientsAndTheMessageGoesToTheFirstThreeOnly()
    {
        string data = Path.Combine(Path.GetTempPath(), "fastspool-it-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        new UserStore(data).Add("carol", null);
        await using TestServer server = await TestServer.StartAsync(o => o.Smtp.MaxRecipients = 3, data);
        string subject = "three of four " + Guid.NewGuid().ToString("N");
        using (RawSmtp raw = await OpenAsync(server))
        {
            await raw.SendAsync("MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\nRCPT TO:<bob@localhost>\r\n" +
                "RCPT TO:<postmaster@localhost>\r\nRCPT TO:<carol@localhost>\r\nDATA\r\n");
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await ExpectLineAsync(raw, "452 4.5.3 Error: too many recipients");
            await ExpectLineAsync(raw, "354 End data with <CR><LF>.<CR><LF>");
            await raw.SendAsync($"Subject: {subject}\r\n\r\nfor the first three\r\n.\r\n");
            Assert.Matches("^250 2.0.0 Ok: queued as ", await raw.ReadLineAsync(ReplyTimeout));
        }
        foreach (string user in new[] { "alice", "bob", "postmaster" })
        {
            MimeMessage message = Assert.Single(await WaitForSubjectAsync(server, user, subject));
            Assert.Equal($"{user}@localhost", message.Headers["Delivered-To"]);
        }
        await server.WaitForIdleQueueAsync();
        Assert.False(File.Exists(server.MailboxPath("carol")), "carol got a copy although her RCPT was refused");
    }

    [Fact]
    public async Task ClientTalkingBeforeTheGreetingIsRefusedAndDisconnected()
    {
        await using TestServer server = await StartAsync(o => o.GreetPause = TimeSpan.FromMilliseconds(300));

        // A client that waits gets the greeting after the pause.
        var clock = Stopwatch.StartNew();
        using (RawSmtp patient = await RawSmtp.ConnectAsync(server.Port))
        {
            await ExpectLineAsync(patient, "220 mx.example.test ESMTP FastSpool");
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"greeting after {clock.Elapsed.TotalMilliseconds} ms");
        }

        using (RawSmtp impatient = await RawSmtp.ConnectAsync(server.Port))
        {
            await impatient.SendAsync("EHLO client.test\r\nMAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\n");
            await ExpectLineAsync(impatient, ProtocolSynchronization);
            await ExpectClosedAsync(impatient);
        }
    }

    [Fact]
    public async Task HeloClientThatPipelinesIsRefusedAndDisconnected()
    {
        await using TestServer server = await StartAsync();
        using (RawSmtp raw = await OpenAsync(server, extended: false))
        {
            // No PIPELINING was offered: every command must wait for the reply to the one before (RFC 2920 §3.1).
            await raw.SendAsync($"MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\nDATA\r\nSubject: {RefusedSubject} helo\r\n\r\nx\r\n.\r\n");
            await ExpectLineAsync(raw, ProtocolSynchronization);
            await ExpectClosedAsync(raw);
        }
        using (RawSmtp raw = await RawSmtp.ConnectAsync(server.Port))
        {
            await ExpectLineAsync(raw, "220 mx.example.test ESMTP FastSpool");
            await raw.SendAsync("HELO client.test\r\nNOOP\r\n");
            await ExpectLineAsync(raw, ProtocolSynchronization);
            await ExpectClosedAsync(raw);
        }
        await AssertOnlyGoodMailDeliveredAsync(server);
    }

    [Theory]
    [InlineData("DATA\r\nSubject: " + RefusedSubject + " early\r\n\r\ntext before the 354\r\n.\r\n")]
    [InlineData("DATA\r\nS")]
    [InlineData("EHLO again.test\r\nNOOP\r\n")]
    public async Task CommandThatMustEndAPipelinedGroupIsRefusedWhenMoreFollows(string input)
    {
        await using TestServer server = await StartAsync();
        using (RawSmtp raw = await OpenAsync(server))
        {
            await raw.SendAsync("MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\n");
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await raw.SendAsync(input);
            await ExpectLineAsync(raw, ProtocolSynchronization);
            await ExpectClosedAsync(raw);
        }
        await AssertOnlyGoodMailDeliveredAsync(server);
    }

    [Fact]
    public async Task TooManyErrorsEndTheSession()
    {
        await using TestServer server = await StartAsync(o => o.MaxErrors = 3);
        using RawSmtp raw = await OpenAsync(server);
        await raw.SendAsync("XYZZY\r\n");
        await ExpectLineAsync(raw, "500 5.5.2 Error: command not recognized");
        await raw.SendAsync("NOOP\r\n");
        await ExpectLineAsync(raw, "250 2.0.0 Ok");
        await raw.SendAsync("RCPT TO:<alice@localhost>\r\n");
        await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
        await raw.SendAsync("MAIL FROM:bob@example.org\r\n");
        await ExpectLineAsync(raw, "501 5.5.4 Syntax: MAIL FROM:<address>");
        await ExpectLineAsync(raw, "421 4.7.0 mx.example.test Error: too many errors");
        await ExpectClosedAsync(raw);
    }

    [Fact]
    public async Task IdleClientIsDisconnectedAfterTheTimeout()
    {
        await using TestServer server = await StartAsync(o => o.Timeout = TimeSpan.FromMilliseconds(300));
        using RawSmtp raw = await RawSmtp.ConnectAsync(server.Port);
        var clock = Stopwatch.StartNew();
        await ExpectLineAsync(raw, "220 mx.example.test ESMTP FastSpool");
        await ExpectLineAsync(raw, TimeoutExceeded);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"timed out after {clock.Elapsed.TotalMilliseconds} ms");
        await ExpectClosedAsync(raw);
    }

    [Theory]
    [InlineData("DATA")]
    [InlineData("BDAT")]
    public async Task ClientThatStopsInTheMiddleOfAMessageIsDisconnectedAndNothingIsQueued(string command)
    {
        // One second rather than 300 ms: the dialogue before the pause needs a few round trips.
        await using TestServer server = await StartAsync(o => o.Timeout = TimeSpan.FromSeconds(1));
        using (RawSmtp raw = await OpenAsync(server))
        {
            const string part = "Subject: " + RefusedSubject + " unfinished\r\n\r\nand then";
            if (command == "DATA")
            {
                await StartDataAsync(raw);
                await raw.SendAsync(part);
            }
            else
            {
                await raw.SendAsync($"MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\nBDAT 1000 LAST\r\n{part}");
                await ExpectLineAsync(raw, "250 2.1.0 Ok");
                await ExpectLineAsync(raw, "250 2.1.5 Ok");
            }
            await ExpectLineAsync(raw, TimeoutExceeded);
            await ExpectClosedAsync(raw);
        }
        await AssertOnlyGoodMailDeliveredAsync(server);
    }

    [Fact]
    public async Task ClientThatTricklesDataBelowTheMinimumRateIsCutOff()
    {
        // The client is never idle for the timeout (an octet every 100 ms), but 10 octets a second is far below
        // the 1000 the server asks for: after the timeout's grace the rate decides. A 2 s grace leaves room for a
        // busy machine's scheduling delays before the five octets that tell the rate's cut from the idle timeout.
        await using TestServer server = await StartAsync(o =>
        {
            o.Timeout = TimeSpan.FromSeconds(2);
            o.MinDataRate = 1000;
        });
        using (RawSmtp raw = await OpenAsync(server))
        {
            await StartDataAsync(raw);
            await raw.SendAsync($"Subject: {RefusedSubject} trickle\r\n\r\n");
            Trickle trickle = await TrickleAsync(raw, _ => "x", TimeSpan.FromMilliseconds(100));
            Assert.True(trickle.Sent >= 5, $"cut off after {trickle.Sent} octets: that was the idle timeout, not the data rate");
            Assert.Equal([TimeoutExceeded], trickle.Replies);
            await ExpectClosedAsync(raw);
        }
        await AssertOnlyGoodMailDeliveredAsync(server);
    }

    [Fact]
    public async Task ClientThatTricklesACommandLineIsCutOffAfterTheTimeout()
    {
        // An octet every 300 ms never leaves the connection idle for the 1 s timeout, but the line takes longer than it.
        await using TestServer server = await TestServer.StartAsync(o => o.Smtp.Timeout = TimeSpan.FromSeconds(1), logLevel: LogLevel.Information);
        using RawSmtp raw = await OpenAsync(server);
        Trickle trickle = await TrickleAsync(raw, i => "NOOP and on and on"[i % 18].ToString(), TimeSpan.FromMilliseconds(300));
        Assert.Equal([TimeoutExceeded], trickle.Replies);
        Assert.InRange(trickle.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        await ExpectClosedAsync(raw);
        Assert.Contains(server.Log.Lines, l => l == "timeout after command from [127.0.0.1]");
    }

    [Fact]
    public async Task ClientThatSendsOneOctetBdatChunksIsCutOffByTheMinimumDataRate()
    {
        // Each chunk is answered at once and no gap reaches the 1 s timeout, but one octet per 300 ms is far below
        // 1000 octets a second: the message is timed as a whole, its chunk headers and gaps included.
        await using TestServer server = await TestServer.StartAsync(o =>
        {
            o.Smtp.Timeout = TimeSpan.FromSeconds(1);
            o.Smtp.MinDataRate = 1000;
        }, logLevel: LogLevel.Information);
        using (RawSmtp raw = await OpenAsync(server))
        {
            await raw.SendAsync("MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\n");
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            string text = $"Subject: {RefusedSubject} bdat trickle\r\n\r\n" + new string('x', 100);
            Trickle trickle = await TrickleAsync(raw, i => $"BDAT 1\r\n{text[i % text.Length]}", TimeSpan.FromMilliseconds(300));
            Assert.True(trickle.Replies.Count >= 3, $"cut off after {trickle.Replies.Count - 1} chunks: that was the idle timeout, not the data rate");
            Assert.All(trickle.Replies[..^1], r => Assert.Equal("250 2.0.0 Ok: 1 octets received", r));
            Assert.Equal(TimeoutExceeded, trickle.Replies[^1]);
            Assert.InRange(trickle.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
            await ExpectClosedAsync(raw);
        }
        Assert.Contains(server.Log.Lines, l => l == "timeout after message data from [127.0.0.1]");
        await AssertOnlyGoodMailDeliveredAsync(server);
    }

    /// <summary>What a trickling client saw: the replies in order, the pieces it sent, and when the last reply came.</summary>
    private sealed record Trickle(List<string> Replies, int Sent, TimeSpan Elapsed);

    /// <summary>Sends <paramref name="piece"/>(n) every <paramref name="pace"/> while the replies are read as they come,
    /// until the server says 421 or closes, or 15 s pass. The pace is the slow client's, on purpose: not a wait for
    /// the server (the end of the replies ends a pause early).</summary>
    private static async Task<Trickle> TrickleAsync(RawSmtp raw, Func<int, string> piece, TimeSpan pace)
    {
        var replies = new List<string>();
        var clock = Stopwatch.StartNew();
        TimeSpan last = TimeSpan.Zero;
        Task reading = Task.Run(async () =>
        {
            while (await raw.ReadLineAsync(TimeSpan.FromSeconds(20)) is { } line)
            {
                lock (replies)
                {
                    replies.Add(line);
                    last = clock.Elapsed;
                }
                if (line.StartsWith("421 ", StringComparison.Ordinal))
                    return;
            }
        });
        int sent = 0;
        while (!reading.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            try
            {
                await raw.SendAsync(piece(sent));
                sent++;
            }
            catch (IOException)
            {
                break; // the server has closed; its last reply may still be on the way
            }
            await Task.WhenAny(reading, Task.Delay(pace));
        }
        if (!reading.IsCompleted && clock.Elapsed >= TimeSpan.FromSeconds(15))
            Assert.Fail($"still connected after {sent} pieces in {clock.Elapsed.TotalSeconds:F1} s; {replies.Count} replies");
        await reading.WaitAsync(TimeSpan.FromSeconds(20));
        lock (replies)
            return new Trickle([.. replies], sent, last);
    }

    [Fact]
    public async Task TooManyReceivedHeadersAreRefusedAsAMailLoop()
    {
        await using TestServer server = await StartAsync(o => o.MaxReceivedHeaders = 5);
        static string Received(int count, string name = "Received") => string.Concat(Enumerable.Range(1, count).Select(i =>
            $"{name}: from hop{i}.example.org by hop{i + 1}.example.org; Mon, 1 Jan 2024 00:00:0{i % 10} +0000\r\n"));
        string fourHops = "four hops " + Guid.NewGuid().ToString("N");
        string inBody = "received lines in the body " + Guid.NewGuid().ToString("N");
        using (RawSmtp raw = await OpenAsync(server))
        {
            await StartDataAsync(raw);
            await raw.SendAsync($"{Received(4)}Subject: {fourHops}\r\n\r\nhi\r\n.\r\n");
            Assert.Matches("^250 2.0.0 Ok: queued as ", await raw.ReadLineAsync(ReplyTimeout));

            await StartDataAsync(raw);
            await raw.SendAsync($"{Received(4)}{Received(1, "received")}Subject: {RefusedSubject} five hops\r\n\r\nhi\r\n.\r\n");
            await ExpectLineAsync(raw, "554 5.4.0 Error: too many hops");

            await StartDataAsync(raw);
            await raw.SendAsync($"{Received(2)}Subject: {inBody}\r\n\r\n{Received(10)}.\r\n");
            Assert.Matches("^250 2.0.0 Ok: queued as ", await raw.ReadLineAsync(ReplyTimeout));
        }
        await AssertOnlyGoodMailDeliveredAsync(server, "alice");
        List<string?> subjects = Mailbox.Read(server.MailboxPath("alice")).Select(m => m.Message.Subject).ToList();
        Assert.Equal(fourHops, subjects[0]);
        Assert.Equal(inBody, subjects[1]);
    }
}
