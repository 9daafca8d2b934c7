using System.Net;
using System.Net.Sockets;
using System.Text;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Pop3;
using MailKit.Security;

namespace FastSpool.Server.Tests.Pop3;

/// <summary>POP3 with the TLS listeners' certificate: STLS (RFC 2595) on Pop3:Listen, TLS from the first octet on
/// Pop3:ListenTls (port 995), both read by MailKit's Pop3Client, which trusts this server's certificate alone.</summary>
public sealed class Pop3TlsTests : IAsyncLifetime
{
    private readonly int _implicitPort = TestServer.FreePort();
    private TlsServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TlsServer.StartAsync(o => o.Pop3.ListenTls = [$"127.0.0.1:{_implicitPort}"]);
        using (var smtp = await _server.ConnectAsync(_server.Port, SecureSocketOptions.None))
        {
            await smtp.SendAsync(TestMessage.Create("collected over TLS"));
            await smtp.DisconnectAsync(true);
        }
        await _server.Server.DeliveredAsync("alice", 1);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Pop3Client NewClient()
    {
        string expected = _server.Certificate.GetCertHashString();
        return new Pop3Client { ServerCertificateValidationCallback = (_, c, _, _) => c is not null && c.GetCertHashString() == expected };
    }

    [Fact]
    public async Task StlsOffersTlsThenTheSessionLogsInOverIt()
    {
        using Pop3Client pop = NewClient();
        await pop.ConnectAsync("127.0.0.1", _server.Server.Pop3Port, SecureSocketOptions.StartTls);
        Assert.True(pop.IsSecure);
        await pop.AuthenticateAsync("alice", TlsServer.Password);
        Assert.Equal("collected over TLS", (await pop.GetMessageAsync(0)).Subject);
        await pop.DisconnectAsync(true);
        Assert.Contains(_server.Log.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"Anonymous TLS connection established from \[127\.0\.0\.1\]: TLSv1\.[23] with cipher TLS_\w+ \((128|256)/\1 bits\)$"));
    }

    [Fact]
    public async Task ListenTlsSpeaksTlsFromTheFirstOctet()
    {
        using Pop3Client pop = NewClient();
        await pop.ConnectAsync("127.0.0.1", _implicitPort, SecureSocketOptions.SslOnConnect);
        Assert.True(pop.IsSecure);
        await pop.AuthenticateAsync("alice", TlsServer.Password);
        Assert.Equal(1, pop.Count);
        await pop.DisconnectAsync(true);
    }

    [Fact]
    public async Task CapaListsStlsBeforeTlsAndCommandsSentWithStlsAreDroppedUnread()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _server.Server.Pop3Port);
        using var reader = new StreamReader(client.GetStream(), Encoding.ASCII);
        Assert.StartsWith("+OK ", await reader.ReadLineAsync());
        await client.GetStream().WriteAsync("CAPA\r\n"u8.ToArray());
        var capabilities = new List<string>();
        for (string? line = await reader.ReadLineAsync(); line is not null and not "."; line = await reader.ReadLineAsync())
            capabilities.Add(line);
        Assert.Contains("STLS", capabilities);

        // A man in the middle's USER and PASS, in the same packet as STLS: never executed.
        await client.GetStream().WriteAsync("STLS\r\nUSER alice\r\nPASS alice-secret\r\n"u8.ToArray());
        Assert.Equal("+OK Begin TLS negotiation", await reader.ReadLineAsync());
        await Wait.UntilAsync(() => _server.Log.Lines.Any(l => l.Contains("sent 31 octets after STLS before the TLS handshake: discarded", StringComparison.Ordinal)),
            because: "the injected commands to be logged as discarded", observed: () => string.Join('\n', _server.Log.Lines));
        Assert.DoesNotContain(_server.Log.Lines, l => l.Contains("user=<alice>", StringComparison.Ordinal) && l.Contains("login", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StlsIsRefusedOnceTheSessionIsUnderTls()
    {
        using Pop3Client pop = NewClient();
        await pop.ConnectAsync("127.0.0.1", _implicitPort, SecureSocketOptions.SslOnConnect);
        Assert.False(pop.Capabilities.HasFlag(Pop3Capabilities.StartTLS));
        await pop.DisconnectAsync(true);
    }
}
