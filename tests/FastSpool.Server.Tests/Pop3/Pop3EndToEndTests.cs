using System.Diagnostics;
using System.Text;
using FastSpool.Server.Tests.Support;
using FastSpool.Tests;
using MailKit.Net.Pop3;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace FastSpool.Server.Tests.Pop3;

public sealed class Pop3EndToEndTests
{
    private static async Task SendAsync(TestServer server, params MimeMessage[] messages)
    {
        using var smtp = new SmtpClient();
        await smtp.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
        foreach (MimeMessage message in messages)
            await smtp.SendAsync(message);
        await smtp.DisconnectAsync(true);
    }

    /// <summary>Sends <paramref name="text"/> (CRLF lines) as it is, dot-stuffed, so that the octets are exactly these.</summary>
    private static async Task SendRawAsync(TestServer server, byte[] text)
    {
        using RawSmtp smtp = await RawSmtp.ConnectAsync(server.Port);
        await smtp.ExpectAsync("220");
        await smtp.SendAsync("EHLO client.test\r\n");
        await smtp.ExpectAsync("250 ");
        await smtp.SendAsync("MAIL FROM:<bob@example.org> BODY=8BITMIME\r\nRCPT TO:<alice@localhost>\r\nDATA\r\n");
        await smtp.ExpectAsync("250");
        await smtp.ExpectAsync("250");
        await smtp.ExpectAsync("354");
        var stuffed = new MemoryStream();
        bool lineStart = true;
        foreach (byte b in text)
        {
            if (lineStart && b == '.')
                stuffed.WriteByte((byte)'.');
            stuffed.WriteByte(b);
            lineStart = b == '\n';
        }
        stuffed.Write(".\r\n"u8);
        await smtp.SendAsync(stuffed.ToArray());
        await smtp.ExpectAsync("250", TimeSpan.FromSeconds(60));
        await smtp.SendAsync("QUIT\r\n");
    }

    [Fact]
    public async Task MailKitListsReadsDeletesAndAfterQuitSeesTheRest()
    {
        await using TestServer server = await TestServer.StartAsync(logLevel: Microsoft.Extensions.Logging.LogLevel.Information);
        await SendAsync(server, TestMessage.Create("one"), TestMessage.Create("two"), TestMessage.Create("three"));
        await server.DeliveredAsync("alice", 3);

        IList<string> uids;
        using (var pop = new Pop3Client())
        {
            await pop.ConnectAsync("127.0.0.1", server.Pop3Port, SecureSocketOptions.None);
            Assert.True(pop.Capabilities.HasFlag(Pop3Capabilities.UIDL));
            Assert.True(pop.Capabilities.HasFlag(Pop3Capabilities.Top));
            Assert.Contains("PLAIN", pop.AuthenticationMechanisms);
            await pop.AuthenticateAsync("alice", "alice-secret");
            Assert.Equal(3, pop.Count);
            uids = await pop.GetMessageUidsAsync();
            Assert.Equal(3, uids.Distinct().Count());
            Assert.All(uids, u => Assert.Matches("^[\\x21-\\x7e]{1,70}$", u));
            IList<int> sizes = await pop.GetMessageSizesAsync();
            for (int i = 0; i < 3; i++)
            {
                MimeMessage message = await pop.GetMessageAsync(i);
                Assert.Equal(new[] { "one", "two", "three" }[i], message.Subject);
                Assert.True(sizes[i] > 0);
            }
            await pop.DeleteMessageAsync(0);
            await pop.DisconnectAsync(true);
        }

        using (var pop = new Pop3Client())
        {
            await pop.ConnectAsync("127.0.0.1", server.Pop3Port, SecureSocketOptions.None);
            await pop.AuthenticateAsync("alice", "alice-secret");
            Assert.Equal(2, pop.Count);
            Assert.Equal(uids.Skip(1), await pop.GetMessageUidsAsync());
            Assert.Equal("two", (await pop.GetMessageAsync(0)).Subject);
            await pop.DisconnectAsync(true);
        }
        List<(string Marker, MimeMessage Message)> left = Mailbox.Read(server.MailboxPath("alice"));
        Assert.Equal(["two", "three"], left.Select(m => m.Message.Subject));
        foreach (string line in server.Log.Lines)
            Assert.False(line.Contains("Unhandled", StringComparison.Ordinal), line);
        Assert.Contains(server.Log.Lines, l => l.Contains("logout: user=<alice>, [127.0.0.1], retr=3/", StringComparison.Ordinal) && l.Contains("deleted=1, left=2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RetrIsByteExactWithDotsQuotedFromLinesAndEightBitTextAndSizesMatch()
    {
        await using TestServer server = await TestServer.StartAsync();
        string body = ".leading dot\r\n..two dots\r\n.\r\n>From quoted already\r\nFrom unquoted\r\nGr\u00fc\u00dfe, \u65e5\u672c\r\nX-UIDL: forged\r\nlast line\r\n";
        byte[] text = Encoding.UTF8.GetBytes("From: bob@example.org\r\nTo: alice@localhost\r\nSubject: exact\r\nX-UIDL: chosen-by-sender\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body);
        await SendRawAsync(server, text);
        await server.DeliveredAsync("alice", 1);

        using RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port);
        await pop.LoginAsync();
        string list = await pop.CommandAsync("LIST 1");
        long size = long.Parse(list.Split(' ')[2]);
        Assert.StartsWith("+OK ", await pop.CommandAsync("RETR 1"));
        byte[] raw = await pop.ReadMultilineRawAsync();
        byte[] message = RawPop3.Unstuff(raw);
        Assert.Equal(size, message.Length);
        string retrieved = Encoding.UTF8.GetString(message);
        // What the mbox holds: our trace headers, then the message, with "From " quoted as mboxo does.
        Assert.StartsWith("Return-Path: <bob@example.org>\r\nDelivered-To: alice@localhost\r\nReceived: ", retrieved);
        Assert.EndsWith("\r\n\r\n" + body.Replace("\r\nFrom unquoted", "\r\n>From unquoted", StringComparison.Ordinal), retrieved);
        Assert.Contains("\r\n..leading dot\r\n...two dots\r\n..\r\n", Encoding.UTF8.GetString(raw), StringComparison.Ordinal);

        string uidl = await pop.CommandAsync("UIDL 1");
        Assert.DoesNotContain("chosen-by-sender", uidl);
        Assert.DoesNotContain("forged", uidl);

        Assert.Equal("+OK", await pop.CommandAsync("TOP 1 2"));
        string top = Encoding.UTF8.GetString(RawPop3.Unstuff(await pop.ReadMultilineRawAsync()));
        Assert.EndsWith("Content-Transfer-Encoding: 8bit\r\n\r\n.leading dot\r\n..two dots\r\n", top);
        Assert.Equal("+OK", await pop.CommandAsync("TOP 1 0"));
        Assert.EndsWith("8bit\r\n\r\n", Encoding.UTF8.GetString(await pop.ReadMultilineRawAsync()));
        Assert.StartsWith("+OK", await pop.CommandAsync("QUIT"));
    }

    [Fact]
    public async Task ATwentyMegabyteMessageIsRetrievedWholeAndItsSizeIsExact()
    {
        await using TestServer server = await TestServer.StartAsync();
        var body = new StringBuilder();
        var random = new Random(13);
        while (body.Length < 20 * 1024 * 1024)
            body.Append(random.Next(10) == 0 ? "." : "").Append(Convert.ToBase64String(BitConverter.GetBytes(random.NextInt64()))).Append(new string('x', 60)).Append("\r\n");
        byte[] text = Encoding.ASCII.GetBytes("From: bob@example.org\r\nTo: alice@localhost\r\nSubject: big\r\n\r\n" + body);
        await SendRawAsync(server, text);
        await server.DeliveredAsync("alice", 1, TimeSpan.FromSeconds(60));

        using RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port);
        await pop.LoginAsync();
        string stat = await pop.CommandAsync("STAT");
        long size = long.Parse(stat.Split(' ')[2]);
        Assert.StartsWith("+OK ", await pop.CommandAsync("RETR 1"));
        byte[] message = RawPop3.Unstuff(await pop.ReadMultilineRawAsync());
        Assert.Equal(size, message.Length);
        Assert.EndsWith("Subject: big\r\n\r\n" + body, Encoding.ASCII.GetString(message));
        // The session still maps the mailbox, but a message once sent leaves the server's resident set (the pages stay
        // in the page cache): a session reading a large maildrop holds no more of it than the message it is sending.
        long resident = ResidentMemory.OfMappedFile(server.MailboxPath("alice"));
        Assert.True(resident < 1024, $"{resident} KiB of the 20 MiB mailbox still resident in the server after RETR");
    }

    [Fact]
    public async Task ADroppedConnectionDeletesNothing()
    {
        await using TestServer server = await TestServer.StartAsync(logLevel: Microsoft.Extensions.Logging.LogLevel.Information);
        await SendAsync(server, TestMessage.Create("one"), TestMessage.Create("two"));
        await server.DeliveredAsync("alice", 2);
        using (RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port))
        {
            await pop.LoginAsync();
            Assert.StartsWith("+OK", await pop.CommandAsync("DELE 1"));
            Assert.StartsWith("+OK", await pop.CommandAsync("DELE 2"));
        }
        await Wait.UntilAsync(() => server.Log.Lines.Any(l => l.Contains("disconnect from [127.0.0.1] user=<alice>", StringComparison.Ordinal)));
        Assert.Equal(2, Mailbox.Read(server.MailboxPath("alice")).Count);
        using RawPop3 again = await RawPop3.ConnectAsync(server.Pop3Port);
        await again.LoginAsync();
        Assert.Equal("+OK 2 " + (await again.CommandAsync("STAT")).Split(' ')[2], await again.CommandAsync("STAT"));
    }

    [Fact]
    public async Task ASecondSessionForTheSameUserGetsInUse()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RawPop3 first = await RawPop3.ConnectAsync(server.Pop3Port);
        await first.LoginAsync();
        using RawPop3 second = await RawPop3.ConnectAsync(server.Pop3Port);
        Assert.StartsWith("+OK", await second.CommandAsync("USER alice"));
        Assert.StartsWith("-ERR [IN-USE] ", await second.CommandAsync("PASS alice-secret"));
        Assert.StartsWith("+OK", await first.CommandAsync("QUIT"));
    }

    [Fact]
    public async Task AMessageDeliveredDuringASessionSurvivesItsQuit()
    {
        await using TestServer server = await TestServer.StartAsync();
        await SendAsync(server, TestMessage.Create("old one"), TestMessage.Create("old two"));
        await server.DeliveredAsync("alice", 2);
        using RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port);
        await pop.LoginAsync();
        Assert.StartsWith("+OK 2 ", await pop.CommandAsync("STAT"));

        await SendAsync(server, TestMessage.Create("arrived meanwhile"));
        await server.DeliveredAsync("alice", 3);
        Assert.StartsWith("+OK 2 ", await pop.CommandAsync("STAT")); // the session's view stays as it was
        Assert.StartsWith("+OK", await pop.CommandAsync("DELE 1"));
        Assert.StartsWith("+OK", await pop.CommandAsync("QUIT"));

        Assert.Equal(["old two", "arrived meanwhile"], Mailbox.Read(server.MailboxPath("alice")).Select(m => m.Message.Subject));
        using RawPop3 again = await RawPop3.ConnectAsync(server.Pop3Port);
        await again.LoginAsync();
        Assert.StartsWith("+OK 2 ", await again.CommandAsync("STAT"));
    }

    [Fact]
    public async Task BadInputGetsAClearErrorAndTheSessionGoesOn()
    {
        await using TestServer server = await TestServer.StartAsync();
        await SendAsync(server, TestMessage.Create("one"));
        await server.DeliveredAsync("alice", 1);
        using RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port);
        Assert.Equal("-ERR unknown command", await pop.CommandAsync("XYZZY"));
        Assert.Equal("-ERR command not valid before login", await pop.CommandAsync("STAT"));
        Assert.Equal("-ERR give USER first", await pop.CommandAsync("PASS x"));
        Assert.Equal("-ERR line too long", await pop.CommandAsync("NOOP " + new string('a', 5000)));
        Assert.Equal("-ERR APOP is not supported", await pop.CommandAsync("APOP alice 0123456789abcdef0123456789abcdef"));
        await pop.LoginAsync();
        Assert.Equal("-ERR command not valid after login", await pop.CommandAsync("USER bob"));
        Assert.Equal("-ERR no such message", await pop.CommandAsync("RETR 0"));
        Assert.Equal("-ERR no such message", await pop.CommandAsync("RETR 2"));
        Assert.Equal("-ERR syntax: invalid message number", await pop.CommandAsync("RETR -1"));
        Assert.Equal("-ERR syntax: invalid message number", await pop.CommandAsync("LIST abc"));
        Assert.Equal("-ERR syntax: a message number is needed", await pop.CommandAsync("DELE"));
        Assert.Equal("-ERR syntax: TOP message lines", await pop.CommandAsync("TOP 1"));
        Assert.Equal("-ERR no such message", await pop.CommandAsync("RETR 99999999999"[..12]));
        Assert.Equal("+OK message deleted", await pop.CommandAsync("DELE 1"));
        Assert.Equal("-ERR message is deleted", await pop.CommandAsync("RETR 1"));
        Assert.Equal("-ERR message is deleted", await pop.CommandAsync("DELE 1"));
        Assert.Equal("+OK 0 0", await pop.CommandAsync("STAT"));
        Assert.StartsWith("+OK maildrop has 1 messages", await pop.CommandAsync("RSET"));
        Assert.Equal("+OK", await pop.CommandAsync("NOOP"));
        Assert.StartsWith("+OK", await pop.CommandAsync("QUIT"));
        Assert.Single(Mailbox.Read(server.MailboxPath("alice")));
    }

    [Fact]
    public async Task WrongPasswordsAreDelayedAndCounted()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.Pop3.LoginFailureDelay = TimeSpan.FromMilliseconds(400),
            logLevel: Microsoft.Extensions.Logging.LogLevel.Information);
        using RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port);
        Assert.StartsWith("+OK", await pop.CommandAsync("USER alice"));
        var watch = Stopwatch.StartNew();
        Assert.Equal("-ERR [AUTH] authentication failed", await pop.CommandAsync("PASS wrong"));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(380), $"answered after {watch.Elapsed}");
        Assert.StartsWith("+OK", await pop.CommandAsync("USER nosuchuser"));
        watch.Restart();
        Assert.Equal("-ERR [AUTH] authentication failed", await pop.CommandAsync("PASS alice-secret"));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(760), $"the second failure doubles the delay; answered after {watch.Elapsed}");
        Assert.Contains(server.Log.Lines, l => l.Contains("authentication failed: user=<nosuchuser>, method=USER, [127.0.0.1], failures=2", StringComparison.Ordinal));
        await pop.LoginAsync();
    }

    [Fact]
    public async Task AuthPlainWorksWithAnInitialResponseAndWithTheChallengeAndCanBeCancelled()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.Pop3.LoginFailureDelay = TimeSpan.Zero);
        string plain = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice\0alice-secret"));
        using (RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port))
        {
            Assert.Equal("+ ", await pop.CommandAsync("AUTH PLAIN"));
            Assert.Equal("-ERR authentication cancelled", await pop.CommandAsync("*"));
            Assert.Equal("+ ", await pop.CommandAsync("AUTH PLAIN"));
            Assert.Equal("-ERR invalid base64 in the SASL response", await pop.CommandAsync("not@base64!"));
            Assert.Equal("-ERR invalid base64 in the SASL response", await pop.CommandAsync("AUTH PLAIN %%%%"));
            Assert.Equal("-ERR [AUTH] malformed PLAIN response", await pop.CommandAsync("AUTH PLAIN " + Convert.ToBase64String("no-nul"u8.ToArray())));
            Assert.Equal("-ERR unsupported SASL mechanism (PLAIN is offered)", await pop.CommandAsync("AUTH CRAM-MD5"));
            Assert.Equal("+ ", await pop.CommandAsync("AUTH PLAIN"));
            Assert.StartsWith("+OK logged in, maildrop has 0 messages", await pop.CommandAsync(plain));
            Assert.StartsWith("+OK", await pop.CommandAsync("QUIT"));
        }
        using (RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port))
        {
            Assert.StartsWith("+OK logged in", await pop.CommandAsync("AUTH PLAIN " + plain));
            Assert.StartsWith("+OK", await pop.CommandAsync("QUIT"));
        }
    }

    [Fact]
    public async Task CapaListsTheExtensionsAndWithoutPlaintextLoginsRefusesThem()
    {
        await using TestServer server = await TestServer.StartAsync();
        using (RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port))
        {
            Assert.StartsWith("+OK", await pop.CommandAsync("CAPA"));
            string capa = Encoding.ASCII.GetString(await pop.ReadMultilineRawAsync());
            Assert.Equal("TOP\r\nUIDL\r\nUSER\r\nSASL PLAIN\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nLOGIN-DELAY 0\r\nIMPLEMENTATION FastSpool\r\n", capa);
        }
        await using TestServer closed = await TestServer.StartAsync(o => o.Pop3.AllowPlaintextWithoutTls = false);
        using RawPop3 refused = await RawPop3.ConnectAsync(closed.Pop3Port);
        Assert.StartsWith("+OK", await refused.CommandAsync("CAPA"));
        string without = Encoding.ASCII.GetString(await refused.ReadMultilineRawAsync());
        Assert.DoesNotContain("USER", without);
        Assert.DoesNotContain("SASL", without);
        Assert.StartsWith("-ERR [AUTH] plaintext authentication is not allowed", await refused.CommandAsync("USER alice"));
        Assert.StartsWith("-ERR [AUTH] plaintext authentication is not allowed", await refused.CommandAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice\0alice-secret"))));
    }

    [Fact]
    public async Task PipelinedCommandsAreAnsweredInOrder()
    {
        await using TestServer server = await TestServer.StartAsync();
        await SendAsync(server, TestMessage.Create("one"));
        await server.DeliveredAsync("alice", 1);
        using RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port);
        await pop.SendRawAsync(Encoding.ASCII.GetBytes("USER alice\r\nPASS alice-secret\r\nSTAT\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n"));
        Assert.StartsWith("+OK", await pop.ReadLineAsync());
        Assert.StartsWith("+OK logged in", await pop.ReadLineAsync());
        Assert.StartsWith("+OK 1 ", await pop.ReadLineAsync());
        Assert.StartsWith("+OK 1 ", await pop.ReadLineAsync());
        Assert.Equal("+OK", await pop.ReadLineAsync());
        Assert.StartsWith("+OK", await pop.ReadLineAsync());
        Assert.True(await pop.ClosedAsync());
    }
}
