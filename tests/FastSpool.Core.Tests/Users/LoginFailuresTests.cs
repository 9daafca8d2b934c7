using System.Net;
using FastSpool.Users;
using Microsoft.Extensions.Time.Testing;

namespace FastSpool.Core.Tests.Users;

public sealed class LoginFailuresTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.7");
    private readonly FakeTimeProvider _time = new();

    private LoginFailures Failures(int max = 3) =>
        new(_time, max, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10));

    [Fact]
    public void TheDelayDoublesUpToTheMaximum()
    {
        LoginFailures failures = Failures(max: 0);
        Assert.Equal([1, 2, 4, 5, 5], Enumerable.Range(0, 5).Select(_ => failures.Record(Client).Delay.TotalSeconds));
    }

    [Fact]
    public void TheClientIsLockedOutAtTheLimitAndAgainAfterTheWindow()
    {
        LoginFailures failures = Failures();
        Assert.False(failures.Record(Client).LockedOut);
        Assert.False(failures.Record(Client).LockedOut);
        Assert.False(failures.IsLockedOut(Client));
        LoginFailure third = failures.Record(Client);
        Assert.True(third.LockedOut);
        Assert.Equal(3, third.Count);
        Assert.True(failures.IsLockedOut(Client));
        Assert.False(failures.IsLockedOut(IPAddress.Parse("192.0.2.8")));

        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.False(failures.IsLockedOut(Client));
        Assert.Equal(1, failures.Record(Client).Count);
    }

    [Fact]
    public void AClientWithoutAnAddressIsDelayedButNeverLockedOut()
    {
        LoginFailures failures = Failures(max: 1);
        for (int i = 0; i < 5; i++)
        {
            LoginFailure failure = failures.Record(null);
            Assert.False(failure.LockedOut);
            Assert.Equal(TimeSpan.FromSeconds(1), failure.Delay);
        }
        Assert.False(failures.IsLockedOut(null));
    }

    [Fact]
    public void TheTableStaysBoundedAndKeepsTheRecentClients()
    {
        LoginFailures failures = Failures(max: 1);
        for (int i = 0; i < LoginFailures.MaxClients + 10; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            failures.Record(new IPAddress(BitConverter.GetBytes(0x0A000000 + i)));
        }
        Assert.False(failures.IsLockedOut(new IPAddress(BitConverter.GetBytes(0x0A000000))));
        Assert.True(failures.IsLockedOut(new IPAddress(BitConverter.GetBytes(0x0A000000 + LoginFailures.MaxClients + 9))));
    }
}
