using System.Net;

namespace FastSpool.Users;

/// <summary>One protocol's limits on the shared count of failed logins (<see cref="LoginFailures"/>): each failure is
/// answered after a delay that doubles with the client's recent failures (of any protocol), up to
/// <c>maxDelay</c>; at <c>maxFailures</c> the client is locked out of this protocol until <c>window</c> has passed
/// since its last failure. Clients without an address (a Unix socket) are delayed but never counted.</summary>
/// <param name="failures">The table every protocol counts in.</param>
/// <param name="maxFailures">Failures within the window that lock a client out; 0 for no limit.</param>
/// <param name="firstDelay">The delay of a client's first failure (0 for none).</param>
/// <param name="maxDelay">The longest delay.</param>
/// <param name="window">How long a client's failures are remembered after its last one.</param>
public sealed class LoginFailureLimit(LoginFailures failures, int maxFailures, TimeSpan firstDelay, TimeSpan maxDelay, TimeSpan window)
{
    private readonly int _maxFailures = maxFailures >= 0 ? maxFailures : throw new ArgumentOutOfRangeException(nameof(maxFailures));
    private readonly TimeSpan _maxDelay = maxDelay >= firstDelay ? maxDelay : throw new ArgumentOutOfRangeException(nameof(maxDelay));

    /// <summary>The shared table.</summary>
    public LoginFailures Failures { get; } = failures;

    /// <summary>Whether <paramref name="client"/> is locked out now: it may not try again (SMTP answers 421, POP3
    /// <c>-ERR [AUTH]</c> and closes).</summary>
    public bool IsLockedOut(IPAddress? client) =>
        client is not null && _maxFailures > 0 && Failures.Count(client, window) >= _maxFailures;

    /// <summary>Counts a failed login by <paramref name="client"/>.</summary>
    public LoginFailure Record(IPAddress? client)
    {
        if (client is null)
            return new LoginFailure(firstDelay, 1, false);
        int count = Failures.Add(client, window);
        return new LoginFailure(DelayFor(count), count, _maxFailures > 0 && count >= _maxFailures);
    }

    private TimeSpan DelayFor(int count)
    {
        if (firstDelay <= TimeSpan.Zero)
            return TimeSpan.Zero;
        int doublings = Math.Min(count - 1, 30);
        double ticks = firstDelay.Ticks * Math.Pow(2, doublings);
        return ticks >= _maxDelay.Ticks ? _maxDelay : TimeSpan.FromTicks((long)ticks);
    }
}
