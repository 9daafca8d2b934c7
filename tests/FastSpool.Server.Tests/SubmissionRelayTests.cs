using System.Net;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace FastSpool.Server.Tests;

/// <summary>"Or authenticated" in the relay policy: with no trusted network at all, mail to a remote domain is refused
/// on port 25 without AUTH, relayed (to aiosmtpd as the smarthost) from an authenticated user on the submission port,
/// and mail for a local user is still taken from anyone on port 25.</summary>
public sealed class SubmissionRelayTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fastspool-subrelay-").FullName;
    private Aiosmtpd? _upstream;
    private TlsServer? _tls;

    public async Task InitializeAsync()
    {
        if (!Aiosmtpd.IsInstalled)
            return;
        _upstream = await Aiosmtpd.StartAsync(_dir, "me", "relay pass");
        string password = Path.Combine(_dir, "relay.pw");
        await File.WriteAllTextAsync(password, "relay pass\n");
        _tls = await TlsServer.StartAsync(o =>
        {
            o.Relay.Smarthost = $"localhost:{_upstream.Port}";
            o.Relay.TrustedCertificate = _upstream.CertificatePath;
            o.Relay.Username = "me";
            o.Relay.PasswordFile = password;
            o.Relay.Networks = [""]; // nobody is trusted by address: loopback is an untrusted network here
        });
    }

    public async Task DisposeAsync()
    {
        if (_tls is not null)
            await _tls.DisposeAsync();
        if (_upstream is not null)
            await _upstream.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [SkippableAiosmtpdFact]
    public async Task UnauthenticatedMailForARemoteDomainIsRefusedOnPort25ButLocalMailIsTaken()
    {
        using RawSmtp raw = await RawSmtp.ConnectAsync(_tls!.Port);
        await raw.ExpectAsync("220 ");
        await raw.SendAsync("EHLO client.example\r\n");
        await raw.ExpectAsync("250 ");
        await raw.SendAsync("MAIL FROM:<someone@example.org>\r\n");
        await raw.ExpectAsync("250 ");
        await raw.SendAsync("RCPT TO:<friend@elsewhere.example>\r\n");
        await raw.ExpectAsync("454 4.7.1 <friend@elsewhere.example>: Relay access denied");
        await raw.SendAsync("RCPT TO:<bob@localhost>\r\n");
        await raw.ExpectAsync("250 2.1.5 Ok");
    }

    [SkippableAiosmtpdFact]
    public async Task AuthenticatedMailOnTheSubmissionPortIsRelayed()
    {
        using (SmtpClient client = await _tls!.ConnectAsync(_tls.SubmissionPort, SecureSocketOptions.StartTls))
        {
            await client.AuthenticateAsync(new SaslMechanismPlain(new NetworkCredential("alice", TlsServer.Password)));
            await client.SendAsync(TestMessage.Create("relayed for alice", to: "friend@elsewhere.example", from: "alice@localhost"));
            await client.DisconnectAsync(true);
        }
        var (message, envelope) = Assert.Single(await _upstream!.ReceivedAsync(1));
        Assert.Equal("relayed for alice", message.Subject);
        Assert.Equal("alice@localhost", envelope.GetProperty("from").GetString());
        Assert.Contains("(Authenticated sender: alice)", message.Headers[MimeKit.HeaderId.Received], StringComparison.Ordinal);
        await _tls.Server.WaitForIdleQueueAsync();
    }
}
