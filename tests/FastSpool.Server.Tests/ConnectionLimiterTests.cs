using System.Net;
using FastSpool.Configuration;
using FastSpool.Server.Smtp;
using FastSpool.Server.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FastSpool.Server.Tests;

/// <summary>The connection counting on the server's clock: the per-client minute, and how often a refusal is logged.</summary>
public sealed class ConnectionLimiterTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.7");
    private static readonly IPAddress Other = IPAddress.Parse("2001:db8::7");

    private readonly FakeTimeProvider _time = new();
    private readonly CapturedLog _log = new();

    private ConnectionLimiter Limiter(Action<SmtpOptions> configure)
    {
        var options = new SmtpOptions { ConnectionLimitExemptions = [] };
        configure(options);
        return new ConnectionLimiter(options, _time, _log.CreateLogger("smtpd"));
    }

    [Fact]
    public void RateLimitCountsConnectionsInTheClientsMinuteAndStartsAfreshAfterIt()
    {
        ConnectionLimiter limiter = Limiter(o => o.ConnectionRatePerClient = 2);
        Assert.Equal(ConnectionAdmission.Admitted, limiter.TryAdmit(Client));
        limiter.Release(Client);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(ConnectionAdmission.Admitted, limiter.TryAdmit(Client));
        limiter.Release(Client);
        Assert.Equal(ConnectionAdmission.TooFastFromClient, limiter.TryAdmit(Client));
        Assert.Equal(ConnectionAdmission.Admitted, limiter.TryAdmit(Other));
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(ConnectionAdmission.TooFastFromClient, limiter.TryAdmit(Client));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ConnectionAdmission.Admitted, limiter.TryAdmit(Client));
        Assert.Equal(2, limiter.Connections);
    }

    [Fact]
    public void RefusalsAreLoggedOnceAMinutePerClientWithTheCountSinceTheLastLine()
    {
        ConnectionLimiter limiter = Limiter(o => o.MaxConnectionsPerClient = 1);
        Assert.Equal(ConnectionAdmission.Admitted, limiter.TryAdmit(Client));
        Assert.Equal(ConnectionAdmission.Admitted, limiter.TryAdmit(Other));
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(ConnectionAdmission.TooManyFromClient, limiter.TryAdmit(Client));
            _time.Advance(TimeSpan.FromSeconds(10));
        }
        Assert.Equal(ConnectionAdmission.TooManyFromClient, limiter.TryAdmit(Other));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(ConnectionAdmission.TooManyFromClient, limiter.TryAdmit(Client));
        Assert.Equal(
        [
            "connection count limit exceeded: 2 from [192.0.2.7] (Smtp:MaxConnectionsPerClient 1); 1 refused with 421 since the last such line",
            "connection count limit exceeded: 2 from [2001:db8::7] (Smtp:MaxConnectionsPerClient 1); 1 refused with 421 since the last such line",
            "connection count limit exceeded: 2 from [192.0.2.7] (Smtp:MaxConnectionsPerClient 1); 5 refused with 421 since the last such line",
        ], _log.Lines);
    }

    [Fact]
    public void ExemptNetworksCountOnlyTowardTheServersLimit()
    {
        ConnectionLimiter limiter = Limiter(o =>
        {
            o.MaxConnections = 3;
            o.MaxConnectionsPerClient = 1;
            o.ConnectionLimitExemptions = ["192.0.2.0/24", ""];
        });
        Assert.Equal(ConnectionAdmission.Admitted, limiter.TryAdmit(Client));
        Assert.Equal(ConnectionAdmission.Admitted, limiter.TryAdmit(Client));
        Assert.Equal(ConnectionAdmission.Admitted, limiter.TryAdmit(Other));
        Assert.Equal(ConnectionAdmission.TooManyFromClient, limiter.TryAdmit(Other));
        Assert.Equal(ConnectionAdmission.ServerFull, limiter.TryAdmit(Client));
        limiter.Release(Client);
        Assert.Equal(ConnectionAdmission.Admitted, limiter.TryAdmit(null));
    }
}
