using System.Net;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace FastSpool.Server.Tests;

/// <summary>Real clients submit mail over TLS with a password: MailKit (STARTTLS with each mechanism, and implicit
/// TLS), swaks and Python's smtplib. Each message is read back from the mailbox with MimeKit.</summary>
public sealed class SubmissionClientTests : IAsyncLifetime
{
    private TlsServer _tls = null!;

    public async Task InitializeAsync() => _tls = await TlsServer.StartAsync();

    public async Task DisposeAsync() => await _tls.DisposeAsync();

    private static SaslMechanism Mechanism(string name)
    {
        var credentials = new NetworkCredential("alice", TlsServer.Password);
        return name switch
        {
            "PLAIN" => new SaslMechanismPlain(credentials),
            "LOGIN" => new SaslMechanismLogin(credentials),
            _ => new SaslMechanismScramSha256(credentials),
        };
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    [InlineData("SCRAM-SHA-256")]
    public async Task MailKitSubmitsOverStartTlsWithEachMechanism(string mechanism)
    {
        using (SmtpClient client = await _tls.ConnectAsync(_tls.SubmissionPort, SecureSocketOptions.StartTls))
        {
            Assert.True(client.IsSecure);
            Assert.Contains(mechanism, client.AuthenticationMechanisms);
            await client.AuthenticateAsync(Mechanism(mechanism));
            await client.SendAsync(TestMessage.Create("via " + mechanism, to: "bob@localhost", from: "alice@localhost"));
            await client.DisconnectAsync(true);
        }

        var (_, message) = Assert.Single(await _tls.Server.DeliveredAsync("bob", 1));
        Assert.Equal("via " + mechanism, message.Subject);
        string received = message.Headers[HeaderId.Received] ?? "";
        Assert.Contains("(Authenticated sender: alice)", received, StringComparison.Ordinal);
        Assert.Contains("with ESMTPSA id", received, StringComparison.Ordinal);
        Assert.Contains(_tls.Log.Lines, l => l.Contains($"sasl_method={mechanism}, sasl_username=alice", StringComparison.Ordinal));
        // Postfix's log line and Received comment, with the suite this handshake chose.
        string line = Assert.Single(_tls.Log.Lines, l => l.Contains("Anonymous TLS connection established from [127.0.0.1]: ", StringComparison.Ordinal));
        System.Text.RegularExpressions.Match tls = System.Text.RegularExpressions.Regex.Match(line, @": (TLSv1\.[23] with cipher TLS_\w+ \((128|256)/\2 bits\))$");
        Assert.True(tls.Success, line);
        Assert.Contains($"(Authenticated sender: alice)", received, StringComparison.Ordinal);
        Assert.Contains($"(using {tls.Groups[1].Value})", message.Headers[HeaderId.Received], StringComparison.Ordinal);
    }

    [Fact]
    public async Task MailKitSubmitsWithImplicitTls()
    {
        using (SmtpClient client = await _tls.ConnectAsync(_tls.ImplicitTlsPort, SecureSocketOptions.SslOnConnect))
        {
            Assert.True(client.IsSecure);
            Assert.False(client.Capabilities.HasFlag(SmtpCapabilities.StartTLS));
            await client.AuthenticateAsync(Mechanism("PLAIN"));
            await client.SendAsync(TestMessage.Create("implicit", to: "bob@localhost", from: "alice@localhost"));
            await client.DisconnectAsync(true);
        }
        var (_, message) = Assert.Single(await _tls.Server.DeliveredAsync("bob", 1));
        Assert.Equal("implicit", message.Subject);
    }

    [Fact]
    public async Task TheReceivedHeaderLeavesTheNameAndTheCipherOutWhenToldTo()
    {
        await using TlsServer tls = await TlsServer.StartAsync(o =>
        {
            o.Smtp.ReceivedAuthenticatedSender = false;
            o.Smtp.ReceivedTlsCipher = false;
        });
        using (SmtpClient client = await tls.ConnectAsync(tls.SubmissionPort, SecureSocketOptions.StartTls))
        {
            await client.AuthenticateAsync(Mechanism("PLAIN"));
            await client.SendAsync(TestMessage.Create("quiet", to: "bob@localhost", from: "alice@localhost"));
            await client.DisconnectAsync(true);
        }
        var (_, message) = Assert.Single(await tls.Server.DeliveredAsync("bob", 1));
        Assert.DoesNotContain("Authenticated sender", message.Headers[HeaderId.Received], StringComparison.Ordinal);
        Assert.DoesNotContain("(using TLS", message.Headers[HeaderId.Received], StringComparison.Ordinal);
        Assert.Contains("with ESMTPSA id", message.Headers[HeaderId.Received], StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAuthenticatedNameIsStoredWithTheMessageAndSurvivesARestart()
    {
        string data = Path.Combine(Path.GetTempPath(), "fastspool-authname-" + Guid.NewGuid().ToString("N"));
        // A smarthost that is not there: the message stays in the queue, deferred.
        void Unreachable(FastSpool.Configuration.FastSpoolOptions o)
        {
            o.Relay.Smarthost = "127.0.0.1:1";
            o.Relay.Tls = "none";
        }
        await using (TlsServer tls = await TlsServer.StartAsync(Unreachable, dataDirectory: data))
        {
            tls.Server.KeepData = true;
            using (SmtpClient client = await tls.ConnectAsync(tls.SubmissionPort, SecureSocketOptions.StartTls))
            {
                await client.AuthenticateAsync(Mechanism("PLAIN"));
                await client.SendAsync(TestMessage.Create("kept", to: "friend@elsewhere.example", from: "alice@localhost"));
                await client.DisconnectAsync(true);
            }
            Assert.Equal("alice", Assert.Single(tls.Server.Server.Manager.List()).AuthenticatedName);
        }
        await using (TlsServer restarted = await TlsServer.StartAsync(Unreachable, dataDirectory: data))
            Assert.Equal("alice", Assert.Single(restarted.Server.Server.Manager.List()).AuthenticatedName);
    }

    [Fact]
    public async Task SwaksSubmitsWithStartTlsAndLogin()
    {
        Assert.True(Tool.Exists("swaks"), "swaks is not installed (.ci/run installs it)");
        CliResult result = await ChildProcess.RunAsync("swaks",
        [
            "--server", $"127.0.0.1:{_tls.SubmissionPort}", "--tls", "--auth", "LOGIN", "--auth-user", "alice", "--auth-password", TlsServer.Password,
            "--from", "alice@localhost", "--to", "bob@localhost", "--header", "Subject: from swaks", "--body", "sent by swaks",
        ]);
        Assert.True(result.Code == 0, result.Out + result.Error);
        Assert.Contains("<~  235 2.7.0 Authentication successful", result.Out, StringComparison.Ordinal);
        var (_, message) = Assert.Single(await _tls.Server.DeliveredAsync("bob", 1));
        Assert.Equal("from swaks", message.Subject);
        Assert.Contains("(Authenticated sender: alice)", message.Headers[HeaderId.Received], StringComparison.Ordinal);
    }

    [Fact]
    public async Task PythonSmtplibSubmitsWithStartTlsAndLoginAndTheServerEndsTlsWithCloseNotify()
    {
        const string script = """
            import smtplib, ssl, sys
            port, cafile = int(sys.argv[1]), sys.argv[2]
            context = ssl.create_default_context(cafile=cafile)
            # A test certificate is its own root, without the extensions a strict check asks of a CA.
            context.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
            with smtplib.SMTP("127.0.0.1", port) as s:
                s.ehlo()
                assert not s.has_extn("auth"), "AUTH offered before TLS"
                s.starttls(context=context)
                s.ehlo()
                assert not s.has_extn("starttls"), "STARTTLS offered after TLS"
                s.login("alice", sys.argv[3])
                s.sendmail("alice@localhost", ["bob@localhost"], "Subject: from smtplib\r\n\r\nsent by smtplib\r\n")
                code, _ = s.docmd("QUIT")
                assert code == 221, code
                # TLS ends with the server's close_notify (RFC 8446 6.1), not a cut connection: unwrap waits for it.
                s.sock.unwrap().close()
                s.sock = None
            print("sent")
            """;
        _tls.Server.Server.Smtp.PlaintextAuthOnLoopback = false;
        CliResult result = await ChildProcess.RunAsync("python3", ["-c", script, _tls.SubmissionPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _tls.CertificatePath, TlsServer.Password]);
        Assert.True(result.Code == 0, result.Out + result.Error);
        var (_, message) = Assert.Single(await _tls.Server.DeliveredAsync("bob", 1));
        Assert.Equal("from smtplib", message.Subject);
    }
}
