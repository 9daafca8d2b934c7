using System.Net;
using FastSpool.Users;
using Microsoft.Extensions.Time.Testing;

namespace FastSpool.Core.Tests.Users;

public sealed class LoginFailuresTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.7");
    private readonly FakeTimeProvider _time = new();

    private LoginFailureLimit Failures(int max = 3) =>
        new(new LoginFailures(_time), max, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10));

    [Fact]
    public void TheDelayDoublesUpToTheMaximum()
    {
        LoginFailureLimit failures = Failures(max: 0);
        Assert.Equal([1, 2, 4, 5, 5], Enumerable.Range(0, 5).Select(_ => failures.Record(Client).Delay.TotalSeconds));
    }

    [Fact]
    public void TheClientIsLockedOutAtTheLimitAndAgainAfterTheWindow()
    {
        LoginFailureLimit failures = Failures();
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
        LoginFailureLimit failures = Failures(max: 1);
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
        LoginFailureLimit failures = Failures(max: 1);
        for (int i = 0; i < LoginFailures.MaxClients + 10; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            failures.Record(new IPAddress(BitConverter.GetBytes(0x0A000000 + i)));
        }
        Assert.False(failures.IsLockedOut(new IPAddress(BitConverter.GetBytes(0x0A000000))));
        Assert.True(failures.IsLockedOut(new IPAddress(BitConverter.GetBytes(0x0A000000 + LoginFailures.MaxClients + 9))));
    }

    [Fact]
    public void TwoProtocolsCountInOneTableEachUnderItsOwnLimit()
    {
        var shared = new LoginFailures(_time);
        var smtp = new LoginFailureLimit(shared, 3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(16), TimeSpan.FromMinutes(10));
        var pop3 = new LoginFailureLimit(shared, 5, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(15));

        smtp.Record(Client);
        smtp.Record(Client);
        LoginFailure third = pop3.Record(Client);
        Assert.Equal(3, third.Count);                                 // counted on from SMTP's two
        Assert.Equal(TimeSpan.FromSeconds(8), third.Delay);           // POP3's delay for a third failure
        Assert.False(third.LockedOut);                                // under POP3's limit of 5...
        Assert.True(smtp.IsLockedOut(Client));                        // ... but at SMTP's 3
        Assert.False(pop3.IsLockedOut(Client));
        pop3.Record(Client);
        Assert.True(pop3.Record(Client).LockedOut);
        Assert.True(pop3.IsLockedOut(Client));

        // Each protocol's window: SMTP forgets after 10 minutes, POP3 after 15.
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.False(smtp.IsLockedOut(Client));
        Assert.True(pop3.IsLockedOut(Client));
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(pop3.IsLockedOut(Client));
    }

    [Fact]
    public void AFailureAtTheProtocolWithTheShorterWindowDoesNotStartTheCountAfreshForTheOther()
    {
        var shared = new LoginFailures(_time);
        var smtp = new LoginFailureLimit(shared, 3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(16), TimeSpan.FromMinutes(10));
        var pop3 = new LoginFailureLimit(shared, 5, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(15));
        for (int i = 0; i < 5; i++)
            pop3.Record(Client);
        Assert.True(pop3.IsLockedOut(Client));

        // Past SMTP's window, within POP3's: one more failure at SMTP adds to the five; it does not count from 1.
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(6, smtp.Record(Client).Count);
        Assert.True(pop3.IsLockedOut(Client));
        Assert.True(smtp.IsLockedOut(Client));
    }
}
