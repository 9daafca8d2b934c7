using System.Net;

namespace FastSpool.Users;

/// <summary>Failed logins (SMTP AUTH, POP3 USER/PASS and AUTH) counted per client address across connections, as
/// Postfix's anvil and Dovecot's auth penalty do: each failure is answered after a delay that doubles with the
/// client's recent failures, up to <c>maxDelay</c>; at <c>maxFailures</c> the client is locked out until
/// <c>window</c> has passed since its last failure. Clients without an address (a Unix socket) are delayed but never
/// counted. The table is bounded: past <see cref="MaxClients"/> addresses the oldest entries make room.</summary>
public sealed class LoginFailures
{
    /// <summary>How many client addresses are remembered at most.</summary>
    public const int MaxClients = 16_384;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Entry> _clients = [];
    private readonly TimeProvider _time;
    private readonly int _maxFailures;
    private readonly TimeSpan _firstDelay;
    private readonly TimeSpan _maxDelay;
    private readonly TimeSpan _window;

    private struct Entry
    {
        public int Count;
        public long Last;
    }

    /// <param name="time">The clock of the window.</param>
    /// <param name="maxFailures">Failures within the window that lock a client out; 0 for no limit.</param>
    /// <param name="firstDelay">The delay of a client's first failure (0 for none).</param>
    /// <param name="maxDelay">The longest delay.</param>
    /// <param name="window">How long a client's failures are remembered after its last one.</param>
    public LoginFailures(TimeProvider time, int maxFailures, TimeSpan firstDelay, TimeSpan maxDelay, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxFailures);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, firstDelay);
        _time = time;
        _maxFailures = maxFailures;
        _firstDelay = firstDelay;
        _maxDelay = maxDelay;
        _window = window;
    }

    /// <summary>Whether <paramref name="client"/> is locked out now: it may not try again (SMTP answers 421, POP3
    /// <c>-ERR [AUTH]</c> and closes).</summary>
    public bool IsLockedOut(IPAddress? client)
    {
        if (client is null || _maxFailures == 0)
            return false;
        long now = _time.GetTimestamp();
        lock (_lock)
            return _clients.TryGetValue(client, out Entry entry) && Current(entry, now) >= _maxFailures;
    }

    /// <summary>Counts a failed login by <paramref name="client"/>.</summary>
    public LoginFailure Record(IPAddress? client)
    {
        if (client is null)
            return new LoginFailure(_firstDelay, 1, false);
        long now = _time.GetTimestamp();
        int count;
        lock (_lock)
        {
            _clients.TryGetValue(client, out Entry entry);
            count = Current(entry, now) + 1;
            if (!_clients.ContainsKey(client) && _clients.Count >= MaxClients)
                MakeRoom(now);
            _clients[client] = new Entry { Count = count, Last = now };
        }
        return new LoginFailure(DelayFor(count), count, _maxFailures > 0 && count >= _maxFailures);
    }

    /// <summary>The failures of a client within the window, 0 once the window has passed.</summary>
    private int Current(Entry entry, long now) =>
        entry.Count > 0 && _time.GetElapsedTime(entry.Last, now) < _window ? entry.Count : 0;

    private TimeSpan DelayFor(int count)
    {
        if (_firstDelay <= TimeSpan.Zero)
            return TimeSpan.Zero;
        int doublings = Math.Min(count - 1, 30);
        double ticks = _firstDelay.Ticks * Math.Pow(2, doublings);
        return ticks >= _maxDelay.Ticks ? _maxDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>Drops the entries whose window has passed, and if none has, the one with the oldest failure.</summary>
    private void MakeRoom(long now)
    {
        IPAddress? oldest = null;
        long oldestLast = long.MaxValue;
        foreach ((IPAddress address, Entry entry) in _clients)
        {
            if (Current(entry, now) == 0)
                _clients.Remove(address);
            else if (entry.Last < oldestLast)
                (oldest, oldestLast) = (address, entry.Last);
        }
        if (_clients.Count >= MaxClients && oldest is not null)
            _clients.Remove(oldest);
    }
}
