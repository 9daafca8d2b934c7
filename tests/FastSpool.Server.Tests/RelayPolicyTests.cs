using System.Net;
using FastSpool.Server.Tests.Support;
using static FastSpool.Server.Tests.Support.SmtpDialog;

namespace FastSpool.Server.Tests;

/// <summary>No open relay: a server that trusts only 127.0.0.2 (Relay:Networks) with a smarthost configured, talked
/// to from 127.0.0.1 (a stranger) and 127.0.0.2 (a LAN client). Each RCPT is checked by its exact reply.</summary>
public sealed class RelayPolicyTests : IAsyncLifetime
{
    private static readonly IPAddress Stranger = IPAddress.Loopback;
    private static readonly IPAddress LanClient = IPAddress.Parse("127.0.0.2");

    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(o =>
    {
        o.Relay.Networks = ["127.0.0.2/32"];
        // Nothing listens there: these tests only look at the replies to RCPT, and hold what was accepted.
        o.Relay.Smarthost = $"[127.0.0.1]:{TestServer.FreePort()}";
        o.Relay.Tls = "none";
    }, logLevel: Microsoft.Extensions.Logging.LogLevel.Information);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<RawSmtp> OpenFromAsync(IPAddress from)
    {
        RawSmtp raw = await RawSmtp.ConnectAsync(_server.Port, from);
        await ExpectLineAsync(raw, "220 mx.example.test ESMTP FastSpool");
        await raw.SendAsync("EHLO client.test\r\n");
        await raw.ExpectAsync("250 CHUNKING");
        await raw.SendAsync("MAIL FROM:<me@example.org>\r\n");
        await ExpectLineAsync(raw, "250 2.1.0 Ok");
        return raw;
    }

    private async Task ExpectRcptAsync(IPAddress from, string recipient, string expected)
    {
        using RawSmtp raw = await OpenFromAsync(from);
        await raw.SendAsync($"RCPT TO:<{recipient}>\r\n");
        await ExpectLineAsync(raw, expected);
    }

    [Theory]
    [InlineData("friend@elsewhere.example", "454 4.7.1 <friend@elsewhere.example>: Relay access denied")]
    [InlineData("alice@localhost.elsewhere.example", "454 4.7.1 <alice@localhost.elsewhere.example>: Relay access denied")]
    [InlineData("friend%elsewhere.example@localhost", "454 4.7.1 <friend%elsewhere.example@localhost>: Relay access denied")]
    [InlineData("elsewhere.example!friend@localhost", "454 4.7.1 <elsewhere.example!friend@localhost>: Relay access denied")]
    [InlineData("\"friend@elsewhere.example\"@localhost", "454 4.7.1 <\"friend@elsewhere.example\"@localhost>: Relay access denied")]
    [InlineData("@localhost:friend@elsewhere.example", "454 4.7.1 <friend@elsewhere.example>: Relay access denied")]
    [InlineData("@localhost,@example.test:friend@elsewhere.example", "454 4.7.1 <friend@elsewhere.example>: Relay access denied")]
    public Task AStrangerMayNotRelayByAnyRoute(string recipient, string expected) => ExpectRcptAsync(Stranger, recipient, expected);

    [Theory]
    [InlineData("alice@localhost")]
    [InlineData("Alice@Example.Test")]
    [InlineData("postmaster")]
    [InlineData("@elsewhere.example:alice@localhost")]
    public Task AStrangerMaySendToLocalRecipients(string recipient) => ExpectRcptAsync(Stranger, recipient, "250 2.1.5 Ok");

    [Theory]
    [InlineData("friend@elsewhere.example")]
    [InlineData("friend%other.example@elsewhere.example")]
    [InlineData("@localhost:friend@elsewhere.example")]
    public Task ALanClientMayRelay(string recipient) => ExpectRcptAsync(LanClient, recipient, "250 2.1.5 Ok");

    [Theory]
    [InlineData("alice%elsewhere.example@localhost", "550 5.1.1 <alice%elsewhere.example@localhost>: Recipient address rejected: User unknown in local recipient table")]
    [InlineData("elsewhere.example!alice@localhost", "550 5.1.1 <elsewhere.example!alice@localhost>: Recipient address rejected: User unknown in local recipient table")]
    [InlineData("\"alice@elsewhere.example\"@localhost", "550 5.1.1 <\"alice@elsewhere.example\"@localhost>: Recipient address rejected: User unknown in local recipient table")]
    public Task ASenderRoutedLocalPartStaysLocalForALanClient(string recipient, string expected) => ExpectRcptAsync(LanClient, recipient, expected);

    [Fact]
    public async Task RelayDenialIsLoggedWithTheReply()
    {
        await ExpectRcptAsync(Stranger, "friend@elsewhere.example", "454 4.7.1 <friend@elsewhere.example>: Relay access denied");
        await Wait.UntilAsync(() => _server.Log.Lines.Any(l => l.Contains(
            "NOQUEUE: reject: RCPT from [127.0.0.1]: 454 4.7.1 <friend@elsewhere.example>: Relay access denied; from=<me@example.org> to=<friend@elsewhere.example>", StringComparison.Ordinal)),
            because: "the reject line", observed: () => string.Join("\n", _server.Log.Lines));
    }
}
