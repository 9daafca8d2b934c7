using System.Diagnostics;
using System.Net;
using System.Text;
using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests;

/// <summary>The edges of SMTP AUTH (RFC 4954), spoken by hand: refused without TLS, wrong passwords delayed and
/// counted up to a 421, cancellation with <c>*</c>, bad base64, AUTH twice, and what submission requires before MAIL.</summary>
public sealed class SmtpAuthTests
{
    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string Plain(string user, string password, string authzid = "") => B64($"{authzid}\0{user}\0{password}");

    private static async Task<RawSmtp> EhloAsync(int port)
    {
        RawSmtp raw = await RawSmtp.ConnectAsync(port);
        await raw.ExpectAsync("220 ");
        await raw.EhloAsync();
        return raw;
    }

    [Fact]
    public async Task AuthIsRefusedWithoutTlsAndTakenAfterIt()
    {
        await using TlsServer tls = await TlsServer.StartAsync();
        tls.Server.Server.Smtp.PlaintextAuthOnLoopback = false; // as for a client on the LAN
        using RawSmtp raw = await EhloAsync(tls.SubmissionPort);
        await raw.SendAsync($"AUTH PLAIN {Plain("alice", TlsServer.Password)}\r\n");
        await raw.ExpectAsync("538 5.7.11 Encryption required for requested authentication mechanism");
        await raw.SendAsync("MAIL FROM:<alice@localhost>\r\n");
        await raw.ExpectAsync("530 5.7.0 Authentication required");

        await raw.SendAsync("STARTTLS\r\n");
        await raw.ExpectAsync("220 2.0.0 Ready to start TLS");
        await raw.StartTlsAsync(tls.Certificate.GetCertHashString());
        await raw.SendAsync("EHLO client.example\r\n");
        await raw.ExpectAsync("250 ");
        await raw.SendAsync($"AUTH PLAIN {Plain("alice", TlsServer.Password)}\r\n");
        await raw.ExpectAsync("235 2.7.0 Authentication successful");
        await raw.SendAsync("MAIL FROM:<alice@localhost>\r\n");
        await raw.ExpectAsync("250 2.1.0 Ok");
    }

    [Fact]
    public async Task PlaintextAuthCanBeAllowed()
    {
        await using TlsServer tls = await TlsServer.StartAsync(o => o.Smtp.AllowPlaintextAuth = true);
        tls.Server.Server.Smtp.PlaintextAuthOnLoopback = false;
        using RawSmtp raw = await EhloAsync(tls.SubmissionPort);
        await raw.SendAsync($"AUTH PLAIN {Plain("alice", TlsServer.Password)}\r\n");
        await raw.ExpectAsync("235 2.7.0 Authentication successful");
    }

    [Fact]
    public async Task WrongPasswordsAreDelayedCountedAndEndInA421()
    {
        await using TlsServer tls = await TlsServer.StartAsync(o =>
        {
            o.Smtp.AuthFailureDelay = TimeSpan.FromMilliseconds(200);
            o.Smtp.MaxAuthFailures = 3;
        });
        using (RawSmtp raw = await EhloAsync(tls.SubmissionPort))
        {
            var clock = Stopwatch.StartNew();
            await raw.SendAsync($"AUTH PLAIN {Plain("alice", "wrong")}\r\n");
            await raw.ExpectAsync("535 5.7.8 Error: authentication failed");
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(190), $"the first failure was answered after {clock.Elapsed}");

            clock.Restart();
            await raw.SendAsync("AUTH LOGIN\r\n");
            await raw.ExpectAsync("334 VXNlcm5hbWU6");
            await raw.SendAsync(B64("nobody") + "\r\n");
            await raw.ExpectAsync("334 UGFzc3dvcmQ6");
            await raw.SendAsync(B64("wrong") + "\r\n");
            await raw.ExpectAsync("535 5.7.8 Error: authentication failed");
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(390), $"the second failure was answered after {clock.Elapsed} (the delay doubles)");

            await raw.SendAsync($"AUTH PLAIN {Plain("alice", "wrong again")}\r\n");
            await raw.ExpectAsync("421 4.7.0 mx.example.test Error: too many authentication failures");
            Assert.True(await raw.ClosedAsync());
        }

        // The address is locked out across connections, the right password included.
        using (RawSmtp raw = await EhloAsync(tls.SubmissionPort))
        {
            await raw.SendAsync($"AUTH PLAIN {Plain("alice", TlsServer.Password)}\r\n");
            await raw.ExpectAsync("421 4.7.0 mx.example.test Error: too many authentication failures");
        }
        // Another client address is not.
        using (RawSmtp other = await RawSmtp.ConnectAsync(tls.SubmissionPort, IPAddress.Parse("127.0.0.2")))
        {
            await other.ExpectAsync("220 ");
            await other.SendAsync("EHLO other.example\r\n");
            await other.ExpectAsync("250 ");
            await other.SendAsync($"AUTH PLAIN {Plain("alice", TlsServer.Password)}\r\n");
            await other.ExpectAsync("235 ");
        }
        Assert.Contains(tls.Log.Lines, l => l.Contains("[127.0.0.1]: SASL PLAIN authentication failed: sasl_username=alice, failures=1", StringComparison.Ordinal));
        Assert.Contains(tls.Log.Lines, l => l.Contains("[127.0.0.1]: SASL LOGIN authentication failed: sasl_username=nobody, failures=2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnExchangeCancelledWithAStarEndsAndAnotherMayFollow()
    {
        await using TlsServer tls = await TlsServer.StartAsync();
        using RawSmtp raw = await EhloAsync(tls.SubmissionPort);
        await raw.SendAsync("AUTH LOGIN\r\n");
        await raw.ExpectAsync("334 VXNlcm5hbWU6");
        await raw.SendAsync("*\r\n");
        await raw.ExpectAsync("501 5.7.0 Authentication aborted");
        await raw.SendAsync("AUTH PLAIN\r\n");
        await raw.ExpectAsync("334 ");
        await raw.SendAsync("*\r\n");
        await raw.ExpectAsync("501 5.7.0 Authentication aborted");
        await raw.SendAsync("AUTH PLAIN\r\n");
        await raw.ExpectAsync("334 ");
        await raw.SendAsync(Plain("alice", TlsServer.Password) + "\r\n");
        await raw.ExpectAsync("235 2.7.0 Authentication successful");
    }

    [Theory]
    [InlineData("AUTH PLAIN !!!!\r\n", null)]
    [InlineData("AUTH PLAIN YWxpY2U\r\n", null)] // unpadded
    [InlineData("AUTH LOGIN\r\n", "not base64!\r\n")]
    [InlineData("AUTH SCRAM-SHA-256\r\n", "@@@@\r\n")]
    public async Task MalformedBase64IsAnsweredAndTheSessionGoesOn(string command, string? response)
    {
        await using TlsServer tls = await TlsServer.StartAsync();
        using RawSmtp raw = await EhloAsync(tls.SubmissionPort);
        await raw.SendAsync(command);
        if (response is not null)
        {
            await raw.ExpectAsync("334 ");
            await raw.SendAsync(response);
        }
        await raw.ExpectAsync("501 5.5.2 Cannot decode response");
        await raw.SendAsync("NOOP\r\n");
        await raw.ExpectAsync("250 2.0.0 Ok");
    }

    [Fact]
    public async Task AuthTwiceIsRefusedAndTheFirstStands()
    {
        await using TlsServer tls = await TlsServer.StartAsync();
        using RawSmtp raw = await EhloAsync(tls.SubmissionPort);
        await raw.SendAsync($"AUTH PLAIN {Plain("alice", TlsServer.Password)}\r\n");
        await raw.ExpectAsync("235 ");
        await raw.SendAsync($"AUTH PLAIN {Plain("alice", TlsServer.Password)}\r\n");
        await raw.ExpectAsync("503 5.5.1 Error: already authenticated");
        await raw.SendAsync("MAIL FROM:<alice@localhost> AUTH=<>\r\n");
        await raw.ExpectAsync("250 2.1.0 Ok");
        await raw.SendAsync("AUTH LOGIN\r\n");
        await raw.ExpectAsync("503 5.5.1 Error: already authenticated");
    }

    [Theory]
    [InlineData("AUTH CRAM-MD5\r\n", "504 5.5.4 Unrecognized authentication type")]
    [InlineData("AUTH\r\n", "501 5.5.4 Syntax: AUTH mechanism")]
    [InlineData("AUTH PLAIN =\r\n", "535 5.7.8 Error: authentication failed")] // an empty PLAIN message
    public async Task ABadAuthCommandIsAnswered(string command, string reply)
    {
        await using TlsServer tls = await TlsServer.StartAsync();
        using RawSmtp raw = await EhloAsync(tls.SubmissionPort);
        await raw.SendAsync(command);
        await raw.ExpectAsync(reply);
    }

    [Fact]
    public async Task NoOneMayActAsAnotherUser()
    {
        await using TlsServer tls = await TlsServer.StartAsync(o => o.Smtp.AuthFailureDelay = TimeSpan.Zero);
        using RawSmtp raw = await EhloAsync(tls.SubmissionPort);
        await raw.SendAsync($"AUTH PLAIN {Plain("alice", TlsServer.Password, authzid: "bob")}\r\n");
        await raw.ExpectAsync("535 5.7.8 ");
        await raw.SendAsync($"AUTH PLAIN {Plain("alice", TlsServer.Password, authzid: "alice")}\r\n");
        await raw.ExpectAsync("235 ");
    }

    [Fact]
    public async Task SubmissionWantsAuthBeforeMailAndCanCheckTheSender()
    {
        await using TlsServer tls = await TlsServer.StartAsync(o => o.Smtp.SenderLoginMatch = true);
        using RawSmtp raw = await EhloAsync(tls.SubmissionPort);
        await raw.SendAsync("MAIL FROM:<alice@localhost>\r\n");
        await raw.ExpectAsync("530 5.7.0 Authentication required");
        await raw.SendAsync($"AUTH PLAIN {Plain("alice", TlsServer.Password)}\r\n");
        await raw.ExpectAsync("235 ");
        await raw.SendAsync("MAIL FROM:<bob@localhost>\r\n");
        await raw.ExpectAsync("553 5.7.1 <bob@localhost>: Sender address rejected: not owned by user alice");
        await raw.SendAsync("MAIL FROM:<alice@elsewhere.example>\r\n");
        await raw.ExpectAsync("553 5.7.1 ");
        await raw.SendAsync("MAIL FROM:<Alice@example.test>\r\n");
        await raw.ExpectAsync("250 2.1.0 Ok");

        // Port 25 wants no AUTH, and checks no sender.
        using RawSmtp mx = await EhloAsync(tls.Port);
        await mx.SendAsync("MAIL FROM:<bob@localhost>\r\n");
        await mx.ExpectAsync("250 2.1.0 Ok");
    }

    /// <summary>With Smtp:SenderLoginMatch, an alias whose mail reaches the user's mailbox is the user's address too
    /// (as Postfix's smtpd_sender_login_maps set to the alias map); one that does not reach it is not.</summary>
    [Fact]
    public async Task TheSenderMayBeAnAliasThatReachesTheUser()
    {
        string data = Directory.CreateTempSubdirectory("fastspool-slm-").FullName;
        File.WriteAllText(Path.Combine(data, "aliases"), "info: alice\nteam: bob, alice\nsales: bob\n");
        await using TlsServer tls = await TlsServer.StartAsync(o => o.Smtp.SenderLoginMatch = true, dataDirectory: data);
        using RawSmtp raw = await EhloAsync(tls.SubmissionPort);
        await raw.SendAsync($"AUTH PLAIN {Plain("alice", TlsServer.Password)}\r\n");
        await raw.ExpectAsync("235 ");
        foreach (string sender in (string[])["info@localhost", "TEAM@example.test"])
        {
            await raw.SendAsync($"MAIL FROM:<{sender}>\r\n");
            await raw.ExpectAsync("250 2.1.0 Ok");
            await raw.SendAsync("RSET\r\n");
            await raw.ExpectAsync("250 ");
        }
        await raw.SendAsync("MAIL FROM:<sales@localhost>\r\n");
        await raw.ExpectAsync("553 5.7.1 <sales@localhost>: Sender address rejected: not owned by user alice");
        await raw.SendAsync("MAIL FROM:<info@elsewhere.example>\r\n");
        await raw.ExpectAsync("553 5.7.1 ");
    }

    [Fact]
    public async Task AServerWithoutACertificateHasNoStartTlsButAuthOnLoopback()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RawSmtp raw = await RawSmtp.ConnectAsync(server.Port);
        await raw.ExpectAsync("220 ");
        List<string> lines = await raw.EhloAsync();
        Assert.DoesNotContain("250-STARTTLS", lines);
        Assert.Contains("250-AUTH PLAIN LOGIN SCRAM-SHA-256", lines);
        await raw.SendAsync("STARTTLS\r\n");
        await raw.ExpectAsync("502 5.5.1 Error: command not implemented");
    }
}
