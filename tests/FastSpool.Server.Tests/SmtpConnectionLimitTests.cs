using System.Net;
using FastSpool.Configuration;
using FastSpool.Server.Tests.Support;
using static FastSpool.Server.Tests.Support.SmtpDialog;

namespace FastSpool.Server.Tests;

/// <summary>The connection limits: the server's, and per client address the concurrent connections and the rate of
/// new ones, with the exempt networks (loopback unless configured, so these tests empty the list). A refused client
/// is told why with 421 before the close. Other loopback addresses (127.0.0.2) stand for other clients.</summary>
public sealed class SmtpConnectionLimitTests
{
    private const string Greeting = "220 mx.example.test ESMTP FastSpool";
    private static readonly IPAddress OtherClient = IPAddress.Parse("127.0.0.2");

    private static Task<TestServer> StartAsync(Action<SmtpOptions> configure) => TestServer.StartAsync(o => configure(o.Smtp));

    private static async Task<RawSmtp> GreetedAsync(TestServer server, IPAddress? from = null)
    {
        RawSmtp raw = await RawSmtp.ConnectAsync(server.Port, from);
        await ExpectLineAsync(raw, Greeting);
        return raw;
    }

    private static async Task ExpectRefusedAsync(TestServer server, string reply, IPAddress? from = null)
    {
        using RawSmtp raw = await RawSmtp.ConnectAsync(server.Port, from);
        await ExpectLineAsync(raw, reply);
        await ExpectClosedAsync(raw);
    }

    /// <summary>Whether a new connection is greeted now; one that is refused is closed at once.</summary>
    private static async Task<bool> GreetsAsync(TestServer server)
    {
        using RawSmtp raw = await RawSmtp.ConnectAsync(server.Port);
        return await raw.ReadLineAsync(ReplyTimeout) == Greeting;
    }

    [Fact]
    public async Task ClientOverItsConnectionLimitGets421AndOtherClientsAreServed()
    {
        await using TestServer server = await StartAsync(o =>
        {
            o.MaxConnectionsPerClient = 2;
            o.ConnectionLimitExemptions = [];
        });
        RawSmtp first = await GreetedAsync(server);
        using RawSmtp second = await GreetedAsync(server);
        for (int i = 0; i < 3; i++)
            await ExpectRefusedAsync(server, "421 4.7.0 mx.example.test Error: too many connections from 127.0.0.1");

        using (RawSmtp other = await GreetedAsync(server, OtherClient))
        {
            await other.SendAsync("EHLO other.test\r\n");
            await other.ExpectAsync("250 CHUNKING");
        }

        // A connection that ends frees its place.
        await first.SendAsync("QUIT\r\n");
        await ExpectLineAsync(first, "221 2.0.0 Bye");
        first.Dispose();
        await Wait.UntilAsync(() => GreetsAsync(server), because: "a place for 127.0.0.1 once its first connection ended");

        // Logged once, not once per refusal.
        Assert.Single(server.Log.Lines, l => l.StartsWith("connection count limit exceeded: 3 from [127.0.0.1] (Smtp:MaxConnectionsPerClient 2)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientsInTheExemptNetworksAreNotLimitedPerClient()
    {
        // The default exemptions: loopback.
        await using TestServer server = await StartAsync(o => o.MaxConnectionsPerClient = 1);
        using RawSmtp first = await GreetedAsync(server);
        using RawSmtp second = await GreetedAsync(server);
        using RawSmtp third = await GreetedAsync(server, OtherClient);
    }

    [Fact]
    public async Task ClientThatConnectsTooOftenInAMinuteGets421()
    {
        await using TestServer server = await StartAsync(o =>
        {
            o.ConnectionRatePerClient = 3;
            o.ConnectionLimitExemptions = ["127.0.0.2"];
        });
        for (int i = 0; i < 3; i++)
        {
            using RawSmtp raw = await GreetedAsync(server);
        }
        await ExpectRefusedAsync(server, "421 4.7.0 mx.example.test Error: too many connections from 127.0.0.1");
        // An exempt address is not counted.
        for (int i = 0; i < 5; i++)
        {
            using RawSmtp raw = await GreetedAsync(server, OtherClient);
        }
        Assert.Single(server.Log.Lines, l => l.StartsWith("connection rate limit exceeded: 4 from [127.0.0.1] this minute (Smtp:ConnectionRatePerClient 3)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConnectionOverTheServersLimitGets421InsteadOfASilentClose()
    {
        await using TestServer server = await StartAsync(o => o.MaxConnections = 2);
        using RawSmtp first = await GreetedAsync(server);
        using RawSmtp second = await GreetedAsync(server, OtherClient);
        await ExpectRefusedAsync(server, "421 4.7.0 mx.example.test Error: too many connections");
        await ExpectRefusedAsync(server, "421 4.7.0 mx.example.test Error: too many connections", OtherClient);
        Assert.Single(server.Log.Lines, l => l.StartsWith("connection limit reached: 2 connections open (Smtp:MaxConnections)", StringComparison.Ordinal));
    }
}
