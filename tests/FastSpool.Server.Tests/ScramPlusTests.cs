using System.Net;
using System.Text;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace FastSpool.Server.Tests;

/// <summary>SCRAM-SHA-256-PLUS with the tls-server-end-point channel binding (RFC 5802 §6, RFC 5929 §4): MailKit binds
/// its exchange to the certificate its own SslStream saw and the server checks it; the mechanism is offered over TLS
/// only; and a client that says it could bind but was shown no -PLUS ('y') is refused as a downgrade.</summary>
public sealed class ScramPlusTests : IAsyncLifetime
{
    private TlsServer _tls = null!;

    public async Task InitializeAsync() => _tls = await TlsServer.StartAsync();

    public async Task DisposeAsync() => await _tls.DisposeAsync();

    [Theory]
    [InlineData(SecureSocketOptions.StartTls)]
    [InlineData(SecureSocketOptions.SslOnConnect)]
    public async Task MailKitAuthenticatesWithChannelBindingAndSubmits(SecureSocketOptions security)
    {
        using (SmtpClient client = await _tls.ConnectAsync(security == SecureSocketOptions.StartTls ? _tls.SubmissionPort : _tls.ImplicitTlsPort, security))
        {
            Assert.Contains("SCRAM-SHA-256-PLUS", client.AuthenticationMechanisms);
            var mechanism = new SaslMechanismScramSha256Plus(new NetworkCredential("alice", TlsServer.Password));
            await client.AuthenticateAsync(mechanism);
            Assert.True(mechanism.NegotiatedChannelBinding);
            await client.SendAsync(TestMessage.Create("bound", to: "bob@localhost", from: "alice@localhost"));
            await client.DisconnectAsync(true);
        }
        var (_, message) = Assert.Single(await _tls.Server.DeliveredAsync("bob", 1));
        Assert.Equal("bound", message.Subject);
        Assert.Contains(_tls.Log.Lines, l => l.Contains("sasl_method=SCRAM-SHA-256-PLUS, sasl_username=alice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MailKitPicksPlusOnItsOwnAndAWrongPasswordStillFails()
    {
        using SmtpClient client = await _tls.ConnectAsync(_tls.SubmissionPort, SecureSocketOptions.StartTls);
        await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync(new SaslMechanismScramSha256Plus(new NetworkCredential("alice", "wrong"))));
        await client.AuthenticateAsync("alice", TlsServer.Password); // MailKit's choice among what EHLO offers
        Assert.True(client.IsAuthenticated);
        await client.SendAsync(TestMessage.Create("bound", to: "bob@localhost", from: "alice@localhost"));
        await client.DisconnectAsync(true);
        await _tls.Server.DeliveredAsync("bob", 1);
        Assert.Contains(_tls.Log.Lines, l => l.Contains("sasl_method=SCRAM-SHA-256-PLUS, sasl_username=alice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PlusIsNotOfferedWithoutTlsAndIsAnUnknownMechanismThere()
    {
        using RawSmtp raw = await RawSmtp.ConnectAsync(_tls.SubmissionPort);
        await raw.ExpectAsync("220 ");
        List<string> ehlo = await raw.EhloAsync();
        Assert.Contains(ehlo, l => l.Contains("AUTH PLAIN LOGIN SCRAM-SHA-256", StringComparison.Ordinal));
        Assert.DoesNotContain(ehlo, l => l.Contains("-PLUS", StringComparison.Ordinal));
        await raw.SendAsync($"AUTH SCRAM-SHA-256-PLUS {B64("p=tls-server-end-point,,n=alice,r=abcdef")}\r\n");
        await raw.ExpectAsync("504 5.5.4");
        // Without TLS there is nothing to bind to: 'y' is an honest answer here.
        await raw.SendAsync($"AUTH SCRAM-SHA-256 {B64("y,,n=alice,r=abcdef")}\r\n");
        await raw.ExpectAsync("334 ");
        await raw.SendAsync("*\r\n");
        await raw.ExpectAsync("501 5.7.0 Authentication aborted");
    }

    [Fact]
    public async Task AClientAnsweringYWherePlusIsOfferedIsRefusedAsADowngrade()
    {
        using RawSmtp raw = await RawSmtp.ConnectAsync(_tls.SubmissionPort);
        await raw.ExpectAsync("220 ");
        await raw.EhloAsync();
        await raw.SendAsync("STARTTLS\r\n");
        await raw.ExpectAsync("220 ");
        await raw.StartTlsAsync(_tls.Certificate.GetCertHashString());
        List<string> ehlo = await raw.EhloAsync();
        Assert.Contains(ehlo, l => l.Contains("AUTH PLAIN LOGIN SCRAM-SHA-256 SCRAM-SHA-256-PLUS", StringComparison.Ordinal));
        await raw.SendAsync($"AUTH SCRAM-SHA-256 {B64("y,,n=alice,r=abcdef")}\r\n");
        await raw.ExpectAsync("535 5.7.8 Error: authentication failed");
        Assert.Contains(_tls.Log.Lines, l => l.Contains(
            "[127.0.0.1]: SASL SCRAM-SHA-256: the client can bind but was told the server cannot ('y' where SCRAM-SHA-256-PLUS is offered): a downgrade",
            StringComparison.Ordinal));
        // 'n' (a client that cannot bind) is still welcome.
        await raw.SendAsync($"AUTH SCRAM-SHA-256 {B64("n,,n=alice,r=abcdef")}\r\n");
        await raw.ExpectAsync("334 ");
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
