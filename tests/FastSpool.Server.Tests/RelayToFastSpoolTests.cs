using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace FastSpool.Server.Tests;

/// <summary>Two FastSpools: a LAN server relays to a second one as its smarthost, through that one's submission port
/// with STARTTLS (its certificate pinned) and AUTH as alice, as it would to an ISP's. The mail arrives in the
/// upstream's mailbox with both servers' Received headers and the upstream's authenticated-sender note.</summary>
public sealed class RelayToFastSpoolTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fastspool-relay2fs-").FullName;
    private TlsServer _upstream = null!;
    private TestServer _lan = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TlsServer.StartAsync(o =>
        {
            o.Smtp.Hostname = "smtp.isp.example";
            o.LocalDomains = ["isp.example"];
        });
        string password = Path.Combine(_dir, "relay.pw");
        await File.WriteAllTextAsync(password, TlsServer.Password + "\n");
        _lan = await TestServer.StartAsync(o =>
        {
            o.Relay.Smarthost = $"localhost:{_upstream.SubmissionPort}";
            o.Relay.Tls = "starttls";
            o.Relay.TrustedCertificate = _upstream.CertificatePath;
            o.Relay.Username = "alice";
            o.Relay.PasswordFile = password;
        }, logLevel: Microsoft.Extensions.Logging.LogLevel.Information);
    }

    public async Task DisposeAsync()
    {
        await _lan.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task MailForTheUpstreamsDomainIsRelayedWithStartTlsAndAuth()
    {
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", _lan.Port, SecureSocketOptions.None);
            await client.SendAsync(TestMessage.Create("through two FastSpools", "hello upstream\n", "alice@isp.example", from: "bob@localhost"));
            await client.DisconnectAsync(true);
        }
        var (marker, message) = Assert.Single(await _upstream.Server.DeliveredAsync("alice", 1));
        Assert.Equal("through two FastSpools", message.Subject);
        Assert.StartsWith("From bob@localhost ", marker);
        string[] received = [.. message.Headers.Where(h => h.Id == HeaderId.Received).Select(h => h.Value)];
        Assert.Equal(2, received.Length);
        Assert.Contains("by smtp.isp.example", received[0], StringComparison.Ordinal);
        Assert.Contains("(Authenticated sender: alice)", received[0], StringComparison.Ordinal);
        Assert.Contains("with ESMTPSA", received[0], StringComparison.Ordinal);
        Assert.Contains("by mx.example.test", received[1], StringComparison.Ordinal);
        await Wait.UntilAsync(() => _lan.Log.Lines.Any(l => l.Contains($"to=<alice@isp.example>, relay=localhost[127.0.0.1]:{_upstream.SubmissionPort}, ", StringComparison.Ordinal)
                && l.Contains("status=sent (250 ", StringComparison.Ordinal)),
            because: "the LAN server to log the relayed delivery", observed: () => string.Join('\n', _lan.Log.Lines));
        Assert.Contains(_upstream.Log.Lines, l => l.Contains("sasl_username=alice", StringComparison.Ordinal));
        await _lan.WaitForIdleQueueAsync();
    }
}
