using System.Text;
using System.Text.Json;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace FastSpool.Server.Tests;

/// <summary>Relaying end to end: MailKit gives FastSpool mail for a remote domain, FastSpool relays it to aiosmtpd
/// (STARTTLS and AUTH required, a certificate pinned with Relay:TrustedCertificate), which must receive it intact.</summary>
public sealed class RelayEndToEndTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fastspool-relay-").FullName;
    private Aiosmtpd? _upstream;
    private TestServer? _server;

    public async Task InitializeAsync()
    {
        if (!Aiosmtpd.IsInstalled)
            return;
        _upstream = await Aiosmtpd.StartAsync(_dir, "me", "s3cret pass");
        string password = Path.Combine(_dir, "relay.pw");
        await File.WriteAllTextAsync(password, "s3cret pass\n");
        string data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, "aliases"), "team: bob, friend@elsewhere.example\n");
        _server = await TestServer.StartAsync(o =>
        {
            o.Relay.Smarthost = $"localhost:{_upstream.Port}";
            o.Relay.TrustedCertificate = _upstream.CertificatePath;
            o.Relay.Username = "me";
            o.Relay.PasswordFile = password;
        }, dataDirectory: data, logLevel: LogLevel.Information);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
        if (_upstream is not null)
            await _upstream.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task SendAsync(MimeMessage message)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", _server!.Port, SecureSocketOptions.None);
        await client.SendAsync(message);
        await client.DisconnectAsync(true);
    }

    [SkippableAiosmtpdFact]
    public async Task MailForAnotherDomainIsRelayedIntactOverStartTlsWithAuth()
    {
        string body = "Hello,\n.a line that starts with a dot\n.\n..\nthe end\n";
        await SendAsync(TestMessage.Create("relayed", body, to: "friend@elsewhere.example", from: "alice@localhost"));
        var (message, envelope) = Assert.Single(await _upstream!.ReceivedAsync(1));
        Assert.Equal("relayed", message.Subject);
        Assert.Equal(body, message.TextBody);
        // The octets as aiosmtpd took them off the wire and unstuffed them: CRLF line ends, every dot line as it was.
        string raw = await File.ReadAllTextAsync(Path.Combine(_upstream!.Directory, "00000.eml"), Encoding.UTF8);
        Assert.Contains("\r\n\r\nHello,\r\n.a line that starts with a dot\r\n.\r\n..\r\nthe end\r\n", raw, StringComparison.Ordinal);
        Assert.DoesNotMatch("[^\r]\n", raw);
        Assert.Contains("by mx.example.test (FastSpool) with ESMTP id", message.Headers[HeaderId.Received], StringComparison.Ordinal);
        Assert.Equal("alice@localhost", envelope.GetProperty("from").GetString());
        Assert.Equal(["friend@elsewhere.example"], envelope.GetProperty("to").EnumerateArray().Select(e => e.GetString()));
        Assert.True(envelope.GetProperty("tls").GetBoolean());
        Assert.True(envelope.GetProperty("authenticated").GetBoolean());
        await Wait.UntilAsync(() => _server!.Log.Lines.Any(l => l.Contains(
            $"to=<friend@elsewhere.example>, relay=localhost[127.0.0.1]:{_upstream.Port}, delay=", StringComparison.Ordinal)
            && l.EndsWith("status=sent (250 2.0.0 Ok: queued as A00000)", StringComparison.Ordinal)),
            because: "the sent line", observed: () => string.Join("\n", _server!.Log.Lines.TakeLast(5)));
        await _server!.WaitForIdleQueueAsync();
    }

    [SkippableAiosmtpdFact]
    public async Task ARemoteAliasTargetIsRelayedAndTheLocalOneDelivered()
    {
        await SendAsync(TestMessage.Create("to the team", to: "team@localhost", from: "alice@localhost"));
        var (message, envelope) = Assert.Single(await _upstream!.ReceivedAsync(1));
        Assert.Equal("to the team", message.Subject);
        Assert.Equal(["friend@elsewhere.example"], envelope.GetProperty("to").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("to the team", Assert.Single(await _server!.DeliveredAsync("bob", 1)).Message.Subject);
    }
}
