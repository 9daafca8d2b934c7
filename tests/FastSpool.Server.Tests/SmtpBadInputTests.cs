using System.Text;
using FastSpool.Server.Tests.Support;
using MimeKit;
using static FastSpool.Server.Tests.Support.SmtpDialog;

namespace FastSpool.Server.Tests;

/// <summary>Raw dialogues with input no real client should send: bare CR, bare LF and NUL in message text (SMTP
/// smuggling), over-long lines, bad syntax, commands out of order, unknown and relayed recipients. Every refusal
/// is checked by its exact reply line, and every refused message by the proof that it was never queued.</summary>
public sealed class SmtpBadInputTests : IAsyncLifetime
{
    private const string BareLf = "550 5.5.2 Error: bare <LF> received";
    private const string BareCr = "550 5.5.2 Error: bare <CR> received";
    private const string Nul = "550 5.6.0 Error: NUL character received";

    // A complete second transaction behind a fake end of data: a server that took the fake end for the real one
    // would deliver it (CVE-2023-51764 and friends).
    private const string SmuggledTransaction =
        "MAIL FROM:<mallory@example.org>\r\nRCPT TO:<bob@localhost>\r\nDATA\r\n" +
        "Subject: " + RefusedSubject + " smuggled\r\n\r\nevil\r\n.\r\n";

    // What may stand before and after the dot, as tokens (<CR>, <LF>, <NUL>) so that test names stay readable.
    private static readonly string[] BeforeDot =
        ["<CR><LF>", "<LF>", "<CR>", "<LF><CR>", "<CR><CR><LF>", "<CR><NUL><LF>", "<NUL><CR><LF>", "<CR><LF><NUL>", "<NUL>"];

    private static readonly string[] AfterDot =
        ["<CR><LF>", "<LF>", "<CR>", "<LF><CR>", "<CR><CR><LF>", "<CR><NUL><LF>", "<NUL><CR><LF>", "<NUL>", "<CR>x"];

    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Decode(string tokens) => tokens.Replace("<CR>", "\r").Replace("<LF>", "\n").Replace("<NUL>", "\0");

    /// <summary>RFC 5321 §2.3.8: CR and LF only as CRLF, and no NUL. The first octet that breaks the rule decides
    /// the reply.</summary>
    private static string? FirstViolation(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\0')
                return Nul;
            if (text[i] == '\r' && (i + 1 == text.Length || text[i + 1] != '\n'))
                return BareCr;
            if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
                return BareLf;
        }
        return null;
    }

    /// <summary>Every mix of the line ends around the end-of-data dot, except the one real terminator.</summary>
    public static TheoryData<string, string, string> FakeTerminators()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string before in BeforeDot)
        {
            foreach (string after in AfterDot)
            {
                string? reply = FirstViolation("first line" + Decode(before) + "." + Decode(after) + "MAIL");
                if (reply is not null)
                    data.Add(before, after, reply);
            }
        }
        Assert.Equal((BeforeDot.Length * AfterDot.Length) - 1, data.Count);
        return data;
    }

    [Theory]
    [InlineData("evil)(by-fake.example;Injected:x", "evil??by-fake.example?Injected:x")]
    [InlineData("a)\tby\tfake", null)]
    public async Task HeloNameCannotForgeTheTraceHeader(string helo, string? shown)
    {
        string subject = "helo " + Guid.NewGuid().ToString("N");
        string id;
        using (RawSmtp raw = await RawSmtp.ConnectAsync(_server.Port))
        {
            await ExpectLineAsync(raw, "220 mx.example.test ESMTP FastSpool");
            await raw.SendAsync($"EHLO {helo}\r\n");
            if (shown is null)
            {
                // Not one word: HELO takes no spaces or tabs (RFC 5321 §4.1.1.1).
                await ExpectLineAsync(raw, "501 5.5.4 Syntax: EHLO hostname");
                return;
            }
            await raw.ExpectAsync("250 CHUNKING");
            id = await SendGoodMessageAsync(raw, subject, "alice");
        }
        MimeMessage message = Assert.Single(await WaitForSubjectAsync(_server, "alice", subject), m => m.Subject == subject);
        Assert.Null(message.Headers["Injected"]);
        Header received = Assert.Single(message.Headers, h => h.Field == "Received" && h.Value.Contains("FastSpool", StringComparison.Ordinal));
        (List<string> words, List<string> comments) = ReceivedHeaderTests.TraceClauses(received.Value);
        Assert.Equal(["from", "[127.0.0.1]", "by", "mx.example.test", "with", "ESMTP", "id", id, "for", "<alice@localhost>"], words);
        Assert.Equal([$"helo={shown}", "FastSpool"], comments);
    }

    [Theory]
    [MemberData(nameof(FakeTerminators))]
    public async Task FakeEndOfDataIsRefusedAndTheSmuggledMessageIsNeverDelivered(string before, string after, string expected)
    {
        using (RawSmtp raw = await OpenAsync(_server))
        {
            await StartDataAsync(raw);
            await raw.SendAsync($"Subject: {RefusedSubject} outer\r\n\r\nfirst line{Decode(before)}.{Decode(after)}{SmuggledTransaction}");
            await ExpectLineAsync(raw, expected);
            await ExpectClosedAsync(raw);
        }
        await AssertOnlyGoodMailDeliveredAsync(_server);
    }

    [Theory]
    [InlineData("bare LF", "first half<LF>second half", BareLf)]
    [InlineData("bare CR", "first half<CR>second half", BareCr)]
    [InlineData("NUL<NUL>in a header", "body", Nul)]
    [InlineData("CR in a header<CR>", "body", BareCr)]
    [InlineData("LF ends the body", "last line<LF>", BareLf)]
    [InlineData("CR before CRLF", "last line<CR>", BareCr)]
    [InlineData("NUL in the body", "a<NUL>b", Nul)]
    [InlineData("NUL after a stuffed dot", "..<NUL>", Nul)]
    [InlineData("LF first", "<LF>.", BareLf)]
    public async Task BareLineEndsAndNulInMessageTextAreRefusedAndTheConnectionClosed(string subject, string body, string expected)
    {
        using (RawSmtp raw = await OpenAsync(_server))
        {
            await StartDataAsync(raw);
            await raw.SendAsync($"Subject: {RefusedSubject} {Decode(subject)}\r\n\r\n{Decode(body)}\r\n.\r\n");
            await ExpectLineAsync(raw, expected);
            await ExpectClosedAsync(raw);
        }
        await AssertOnlyGoodMailDeliveredAsync(_server);
    }

    [Theory]
    [InlineData("first<LF>.<LF>", true, BareLf)]
    [InlineData("first<LF>", false, BareLf)]
    [InlineData("first<CR>.<CR>", true, BareCr)]
    [InlineData("first<CR>", true, BareCr)]
    [InlineData("first<NUL><CR><LF>", true, Nul)]
    [InlineData("first<CR><LF><LF>.<LF>", true, BareLf)]
    public async Task BareLineEndsAndNulInBdatChunksAreRefusedAndTheConnectionClosed(string text, bool last, string expected)
    {
        string chunk = $"Subject: {RefusedSubject} bdat\r\n\r\n{Decode(text)}{SmuggledTransaction}";
        using (RawSmtp raw = await OpenAsync(_server))
        {
            await raw.SendAsync("MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\n");
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await raw.SendAsync($"BDAT {Encoding.UTF8.GetByteCount(chunk)}{(last ? " LAST" : "")}\r\n{chunk}");
            await ExpectLineAsync(raw, expected);
            await ExpectClosedAsync(raw);
        }
        await AssertOnlyGoodMailDeliveredAsync(_server);
    }

    [Fact]
    public async Task CrAtTheEndOfOneBdatChunkAndLfAtTheStartOfTheNextAreOneLineEnd()
    {
        string subject = "split line end " + Guid.NewGuid().ToString("N");
        string first = $"Subject: {subject}\r\n\r\nline one\r";
        string second = "\nline two\r\n";
        using (RawSmtp raw = await OpenAsync(_server))
        {
            await raw.SendAsync("MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\n");
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await raw.SendAsync($"BDAT {first.Length}\r\n{first}");
            await ExpectLineAsync(raw, $"250 2.0.0 Ok: {first.Length} octets received");
            await raw.SendAsync($"BDAT {second.Length} LAST\r\n{second}");
            Assert.Matches("^250 2.0.0 Ok: queued as ", await raw.ReadLineAsync(ReplyTimeout));
        }
        MimeMessage message = (await WaitForSubjectAsync(_server, "alice", subject)).Single(m => m.Subject == subject);
        Assert.StartsWith("line one\nline two\n", (message.TextBody ?? "").Replace("\r\n", "\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommandLineOf512OctetsIsReadAndOneOf513IsRefusedWithoutEndingTheSession()
    {
        using RawSmtp raw = await OpenAsync(_server);
        await raw.SendAsync("NOOP " + new string('x', 505) + "\r\n");
        await ExpectLineAsync(raw, "250 2.0.0 Ok");
        await raw.SendAsync("NOOP " + new string('x', 506) + "\r\n");
        await ExpectLineAsync(raw, "500 5.5.2 Error: line too long");
        await raw.SendAsync("NOOP\r\n");
        await ExpectLineAsync(raw, "250 2.0.0 Ok");

        // An over-long MAIL is not carried out in part: RCPT still lacks its MAIL. RFC 3461 §5 gives MAIL 100
        // more octets for the DSN parameters (RCPT 500 more), so MAIL's limit is 612 octets with the CRLF.
        string mail = "MAIL FROM:<bob@example.org>";
        await raw.SendAsync(mail + new string(' ', 611 - mail.Length) + "\r\n");
        await ExpectLineAsync(raw, "500 5.5.2 Error: line too long");
        await raw.SendAsync("RCPT TO:<alice@localhost>\r\n");
        await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");

        // A huge line gets one reply, not one per 512 octets.
        await raw.SendAsync("NOOP " + new string('x', 100_000) + "\r\n");
        await ExpectLineAsync(raw, "500 5.5.2 Error: line too long");
        await raw.SendAsync("QUIT\r\n");
        await ExpectLineAsync(raw, "221 2.0.0 Bye");
        await ExpectClosedAsync(raw);
    }

    [Fact]
    public async Task TextLineOf1000OctetsIsAcceptedAndOneOf1001IsRefused()
    {
        // RFC 5321 §4.5.3.1.6: 1000 octets with the CRLF, not counting a dot added for transparency.
        string longest = new('a', 998);
        string stuffed = "." + new string('b', 997);
        string subject = "longest lines " + Guid.NewGuid().ToString("N");
        using (RawSmtp raw = await OpenAsync(_server))
        {
            await StartDataAsync(raw);
            await raw.SendAsync($"Subject: {subject}\r\n\r\n{longest}\r\n.{stuffed}\r\n.\r\n");
            Assert.Matches("^250 2.0.0 Ok: queued as ", await raw.ReadLineAsync(ReplyTimeout));

            await StartDataAsync(raw);
            await raw.SendAsync($"Subject: {RefusedSubject} long body line\r\n\r\n{new string('c', 999)}\r\n.\r\n");
            await ExpectLineAsync(raw, "554 5.6.0 Error: message contains a line longer than the limit (RFC 5321 4.5.3.1.6)");

            string header = $"Subject: {RefusedSubject} long header ";
            await StartDataAsync(raw);
            await raw.SendAsync($"{header}{new string('d', 999 - header.Length)}\r\n\r\nbody\r\n.\r\n");
            await ExpectLineAsync(raw, "554 5.6.0 Error: message contains a line longer than the limit (RFC 5321 4.5.3.1.6)");

            await raw.SendAsync("NOOP\r\n");
            await ExpectLineAsync(raw, "250 2.0.0 Ok");
        }
        await AssertOnlyGoodMailDeliveredAsync(_server);
        MimeMessage message = Mailbox.Read(_server.MailboxPath("alice")).Single(m => m.Message.Subject == subject).Message;
        Assert.StartsWith(longest + "\n" + stuffed + "\n", (message.TextBody ?? "").Replace("\r\n", "\n"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MAIL FROM:bob@example.org", "501 5.5.4 Syntax: MAIL FROM:<address>")]
    [InlineData("MAIL FROM <bob@example.org>", "501 5.5.4 Syntax: MAIL FROM:<address>")]
    [InlineData("MAIL TO:<bob@example.org>", "501 5.5.4 Syntax: MAIL FROM:<address>")]
    [InlineData("MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>")]
    [InlineData("MAIL FROM:<bob@example.org", "501 5.1.7 Bad sender address syntax")]
    [InlineData("MAIL FROM:<bob@@example.org>", "501 5.1.7 Bad sender address syntax")]
    [InlineData("MAIL FROM:<bob..smith@example.org>", "501 5.1.7 Bad sender address syntax")]
    [InlineData("MAIL FROM:<bob@example..org>", "501 5.1.7 Bad sender address syntax")]
    [InlineData("MAIL FROM:<bob smith@example.org>", "501 5.1.7 Bad sender address syntax")]
    [InlineData("MAIL FROM:<bob@[300.1.2.3]>", "501 5.1.7 Bad sender address syntax")]
    [InlineData("MAIL FROM:<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.org>", "501 5.1.7 Bad sender address syntax: path too long")]
    [InlineData("MAIL FROM:<bob@example.org> FOO=bar", "555 5.5.4 Unsupported option: FOO")]
    [InlineData("MAIL FROM:<bob@example.org> BODY=BINARYMIME", "555 5.5.4 Unsupported option: BODY=BINARYMIME")]
    [InlineData("MAIL FROM:<bob@example.org> SIZE=ten", "501 5.5.4 Bad parameter value")]
    [InlineData("MAIL FROM:<bob@example.org> SIZE=10 SIZE=10", "501 5.5.4 Bad parameter value")]
    public async Task MailSyntaxErrorsAreRefusedAndNoSenderIsTaken(string command, string expected)
    {
        using RawSmtp raw = await OpenAsync(_server);
        await raw.SendAsync(command + "\r\n");
        await ExpectLineAsync(raw, expected);
        await raw.SendAsync("RCPT TO:<alice@localhost>\r\n");
        await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
    }

    [Theory]
    [InlineData("RCPT TO:alice@localhost", "501 5.5.4 Syntax: RCPT TO:<address>")]
    [InlineData("RCPT FROM:<alice@localhost>", "501 5.5.4 Syntax: RCPT TO:<address>")]
    [InlineData("RCPT TO:<>", "501 5.1.3 Bad recipient address syntax")]
    [InlineData("RCPT TO:<alice>", "501 5.1.3 Bad recipient address syntax")]
    [InlineData("RCPT TO:<alice@>", "501 5.1.3 Bad recipient address syntax")]
    [InlineData("RCPT TO:<alice@localhost", "501 5.1.3 Bad recipient address syntax")]
    [InlineData("RCPT TO:<alice@localhost> RRVS=2014-04-03T23:01:00Z", "555 5.5.4 Unsupported option: RRVS")]
    [InlineData("RCPT TO:<alice@localhost> SIZE=10", "555 5.5.4 Unsupported option: SIZE")]
    public async Task RcptSyntaxErrorsAreRefusedAndNoRecipientIsTaken(string command, string expected)
    {
        using RawSmtp raw = await OpenAsync(_server);
        await raw.SendAsync("MAIL FROM:<bob@example.org>\r\n");
        await ExpectLineAsync(raw, "250 2.1.0 Ok");
        await raw.SendAsync(command + "\r\n");
        await ExpectLineAsync(raw, expected);
        await raw.SendAsync("DATA\r\n");
        await ExpectLineAsync(raw, "554 5.5.1 Error: no valid recipients");
    }

    [Theory]
    [InlineData("nobody@localhost", "550 5.1.1 <nobody@localhost>: Recipient address rejected: User unknown in local recipient table")]
    [InlineData("Nobody@Example.Test", "550 5.1.1 <Nobody@Example.Test>: Recipient address rejected: User unknown in local recipient table")]
    [InlineData("alice%example.org@localhost", "550 5.1.1 <alice%example.org@localhost>: Recipient address rejected: User unknown in local recipient table")]
    [InlineData("example.org!alice@localhost", "550 5.1.1 <example.org!alice@localhost>: Recipient address rejected: User unknown in local recipient table")]
    [InlineData("x@example.org", "550 5.7.1 <x@example.org>: Recipient address rejected: relaying is not configured")]
    [InlineData("alice@localhost.example.org", "550 5.7.1 <alice@localhost.example.org>: Recipient address rejected: relaying is not configured")]
    [InlineData("@localhost:x@example.org", "550 5.7.1 <x@example.org>: Recipient address rejected: relaying is not configured")]
    public async Task UnknownUsersAndRelayAttemptsAreRefusedAtRcpt(string recipient, string expected)
    {
        using RawSmtp raw = await OpenAsync(_server);
        await raw.SendAsync($"MAIL FROM:<bob@example.org>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n");
        await ExpectLineAsync(raw, "250 2.1.0 Ok");
        await ExpectLineAsync(raw, expected);
        await ExpectLineAsync(raw, "554 5.5.1 Error: no valid recipients");
        await raw.SendAsync("RSET\r\n");
        await ExpectLineAsync(raw, "250 2.0.0 Ok");
    }

    [Fact]
    public async Task MailBeforeHeloIsRefused()
    {
        using RawSmtp raw = await RawSmtp.ConnectAsync(_server.Port);
        await ExpectLineAsync(raw, "220 mx.example.test ESMTP FastSpool");
        await raw.SendAsync("MAIL FROM:<bob@example.org>\r\n");
        await ExpectLineAsync(raw, "503 5.5.1 Error: send HELO/EHLO first");
        await raw.SendAsync("RCPT TO:<alice@localhost>\r\n");
        await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
        await raw.SendAsync("DATA\r\n");
        await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
    }

    [Fact]
    public async Task RcptAndDataBeforeMailAreRefused()
    {
        using RawSmtp raw = await OpenAsync(_server);
        await raw.SendAsync("RCPT TO:<alice@localhost>\r\n");
        await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
        await raw.SendAsync("DATA\r\n");
        await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
        await raw.SendAsync("MAIL FROM:<bob@example.org>\r\n");
        await ExpectLineAsync(raw, "250 2.1.0 Ok");
        await raw.SendAsync("DATA\r\n");
        await ExpectLineAsync(raw, "503 5.5.1 Error: need RCPT command");
        await raw.SendAsync("DATA now\r\n");
        await ExpectLineAsync(raw, "501 5.5.4 Syntax: no arguments allowed");
    }

    [Fact]
    public async Task NestedMailIsRefusedAndTheFirstSenderStays()
    {
        string subject = "nested " + Guid.NewGuid().ToString("N");
        using (RawSmtp raw = await OpenAsync(_server))
        {
            await raw.SendAsync("MAIL FROM:<first@example.org>\r\n");
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await raw.SendAsync("MAIL FROM:<second@example.org>\r\n");
            await ExpectLineAsync(raw, "503 5.5.1 Error: nested MAIL command");
            await raw.SendAsync("RCPT TO:<alice@localhost>\r\nDATA\r\n");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await ExpectLineAsync(raw, "354 End data with <CR><LF>.<CR><LF>");
            await raw.SendAsync($"Subject: {subject}\r\n\r\nhi\r\n.\r\n");
            Assert.Matches("^250 2.0.0 Ok: queued as ", await raw.ReadLineAsync(ReplyTimeout));
        }
        MimeMessage message = (await WaitForSubjectAsync(_server, "alice", subject)).Single(m => m.Subject == subject);
        Assert.Equal("<first@example.org>", message.Headers["Return-Path"]);
    }

    [Fact]
    public async Task DataAfterBdatIsRefusedAndRsetDropsTheChunks()
    {
        string chunk = $"Subject: {RefusedSubject} mixed\r\n\r\nfirst chunk\r\n";
        using (RawSmtp raw = await OpenAsync(_server))
        {
            await raw.SendAsync("MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\n");
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await raw.SendAsync($"BDAT {chunk.Length}\r\n{chunk}");
            await ExpectLineAsync(raw, $"250 2.0.0 Ok: {chunk.Length} octets received");
            await raw.SendAsync("DATA\r\n");
            await ExpectLineAsync(raw, "503 5.5.1 Error: DATA and BDAT cannot be mixed in one transaction");
            // RFC 3030 §2: the state after that is undefined until RSET.
            await raw.SendAsync("RSET\r\n");
            await ExpectLineAsync(raw, "250 2.0.0 Ok");
            await raw.SendAsync("BDAT 0 LAST\r\n");
            await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
        }
        await AssertOnlyGoodMailDeliveredAsync(_server);
    }

    [Fact]
    public async Task RcptAfterBdatIsRefusedAndTheMessageGoesToTheEarlierRecipientsOnly()
    {
        // The recipients are fixed once message data begins (RFC 5321 §3.3, BDAT standing in for DATA); the
        // Received header written at the first chunk names the single recipient, which must not reach anyone else.
        string subject = "rcpt after bdat " + Guid.NewGuid().ToString("N");
        string first = $"Subject: {subject}\r\n\r\nfirst chunk\r\n";
        const string second = "second chunk\r\n";
        using (RawSmtp raw = await OpenAsync(_server))
        {
            await raw.SendAsync($"MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\nBDAT {first.Length}\r\n{first}");
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await ExpectLineAsync(raw, $"250 2.0.0 Ok: {first.Length} octets received");
            await raw.SendAsync("RCPT TO:<bob@localhost>\r\n");
            await ExpectLineAsync(raw, "503 5.5.1 Error: RCPT after BDAT");
            await raw.SendAsync("MAIL FROM:<mallory@example.org>\r\n");
            await ExpectLineAsync(raw, "503 5.5.1 Error: nested MAIL command");
            await raw.SendAsync($"BDAT {second.Length} LAST\r\n{second}");
            Assert.Matches("^250 2.0.0 Ok: queued as ", await raw.ReadLineAsync(ReplyTimeout));

            // RFC 3030 §2: a BDAT after BDAT LAST belongs to no transaction.
            await raw.SendAsync($"BDAT {second.Length} LAST\r\n{second}");
            await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
        }
        MimeMessage message = (await WaitForSubjectAsync(_server, "alice", subject)).Single(m => m.Subject == subject);
        Assert.Equal("<bob@example.org>", message.Headers["Return-Path"]);
        await AssertOnlyGoodMailDeliveredAsync(_server, "bob");
        Assert.DoesNotContain(Mailbox.Read(_server.MailboxPath("bob")), m => m.Message.Subject == subject);
    }

    [Fact]
    public async Task BdatOutsideATransactionIsDiscardedAndItsOctetsAreNotCommands()
    {
        const string octets = "QUIT\r\nQUIT\r\nQUIT\r\n";
        using RawSmtp raw = await OpenAsync(_server);
        await raw.SendAsync($"BDAT {octets.Length}\r\n{octets}");
        await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
        await raw.SendAsync("MAIL FROM:<bob@example.org>\r\n");
        await ExpectLineAsync(raw, "250 2.1.0 Ok");
        await raw.SendAsync($"BDAT {octets.Length} LAST\r\n{octets}");
        await ExpectLineAsync(raw, "503 5.5.1 Error: need RCPT command");
        await raw.SendAsync("RCPT TO:<nobody@localhost>\r\n");
        await ExpectLineAsync(raw, "550 5.1.1 <nobody@localhost>: Recipient address rejected: User unknown in local recipient table");
        await raw.SendAsync($"BDAT {octets.Length} LAST\r\n{octets}");
        await ExpectLineAsync(raw, "554 5.5.1 Error: no valid recipients");
        await raw.SendAsync("BDAT ten\r\n");
        await ExpectLineAsync(raw, "501 5.5.4 Syntax: BDAT chunk-size [LAST]");
        await ExpectClosedAsync(raw);
    }

    [Fact]
    public async Task RsetForgetsTheTransaction()
    {
        using (RawSmtp raw = await OpenAsync(_server))
        {
            await raw.SendAsync("MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\nRSET\r\n");
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await ExpectLineAsync(raw, "250 2.0.0 Ok");
            await raw.SendAsync("DATA\r\n");
            await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
            await raw.SendAsync("RSET now\r\n");
            await ExpectLineAsync(raw, "501 5.5.4 Syntax: no arguments allowed");
        }
        await AssertOnlyGoodMailDeliveredAsync(_server);
    }

    [Fact]
    public async Task SessionCommandsGetTheirFixedReplies()
    {
        using RawSmtp raw = await RawSmtp.ConnectAsync(_server.Port);
        await ExpectLineAsync(raw, "220 mx.example.test ESMTP FastSpool");
        await raw.SendAsync("HELO\r\n");
        await ExpectLineAsync(raw, "501 5.5.4 Syntax: HELO hostname");
        await raw.SendAsync("EHLO\r\n");
        await ExpectLineAsync(raw, "501 5.5.4 Syntax: EHLO hostname");
        await raw.SendAsync("XYZZY\r\n");
        await ExpectLineAsync(raw, "500 5.5.2 Error: command not recognized");
        await raw.SendAsync("NOOP\n");
        await ExpectLineAsync(raw, "500 5.5.2 Error: bare <LF> received");
        // VRFY never confirms an address (RFC 5321 §3.5.3, §7.3): 252 for known and unknown users alike.
        await raw.SendAsync("VRFY alice\r\n");
        await ExpectLineAsync(raw, "252 2.0.0 Send some mail, I'll try my best");
        await raw.SendAsync("VRFY nobody\r\n");
        await ExpectLineAsync(raw, "252 2.0.0 Send some mail, I'll try my best");
        await raw.SendAsync("VRFY\r\n");
        await ExpectLineAsync(raw, "501 5.5.4 Syntax: VRFY address");
        await raw.SendAsync("EXPN staff\r\n");
        await ExpectLineAsync(raw, "502 5.5.1 Error: command not implemented");
        await raw.SendAsync("HELP\r\n");
        await ExpectLineAsync(raw, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP");
        await raw.SendAsync("NOOP\r\n");
        await ExpectLineAsync(raw, "250 2.0.0 Ok");
        await raw.SendAsync("noop with an argument\r\n");
        await ExpectLineAsync(raw, "250 2.0.0 Ok");
        await raw.SendAsync("RSET\r\n");
        await ExpectLineAsync(raw, "250 2.0.0 Ok");
        await raw.SendAsync("QUIT\r\n");
        await ExpectLineAsync(raw, "221 2.0.0 Bye");
        await ExpectClosedAsync(raw);
    }

    [Theory]
    [InlineData("postmaster")]
    [InlineData("PostMaster")]
    public async Task BarePostmasterIsAcceptedAndDelivered(string postmaster)
    {
        string subject = "to bare postmaster " + Guid.NewGuid().ToString("N");
        using (RawSmtp raw = await OpenAsync(_server))
        {
            await StartDataAsync(raw, postmaster);
            await raw.SendAsync($"Subject: {subject}\r\n\r\nhello postmaster\r\n.\r\n");
            Assert.Matches("^250 2.0.0 Ok: queued as ", await raw.ReadLineAsync(ReplyTimeout));
        }
        await WaitForSubjectAsync(_server, "postmaster", subject);
    }

    [Fact]
    public async Task NullSenderIsAcceptedAndDeliveredAsMailerDaemon()
    {
        string subject = "bounce " + Guid.NewGuid().ToString("N");
        using (RawSmtp raw = await OpenAsync(_server))
        {
            await raw.SendAsync("MAIL FROM:<>\r\nRCPT TO:<alice@localhost>\r\nDATA\r\n");
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
            await ExpectLineAsync(raw, "354 End data with <CR><LF>.<CR><LF>");
            await raw.SendAsync($"Subject: {subject}\r\n\r\nyour message could not be delivered\r\n.\r\n");
            Assert.Matches("^250 2.0.0 Ok: queued as ", await raw.ReadLineAsync(ReplyTimeout));
        }
        await WaitForSubjectAsync(_server, "alice", subject);
        var (marker, message) = Mailbox.Read(_server.MailboxPath("alice")).Single(m => m.Message.Subject == subject);
        Assert.StartsWith("From MAILER-DAEMON  ", marker, StringComparison.Ordinal);
        Assert.Equal("<>", message.Headers["Return-Path"]);
        Assert.Equal("alice@localhost", message.Headers["Delivered-To"]);
    }
}
