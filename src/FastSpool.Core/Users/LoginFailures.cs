using System.Net;

namespace FastSpool.Users;

/// <summary>Failed logins counted per client address across connections and across protocols, as Postfix's anvil and
/// Dovecot's auth penalty do: one count for SMTP AUTH and POP3 (USER/PASS, AUTH), so that an attacker who fails at
/// one does not start afresh at the other. Each protocol applies its own limits to the shared count through a
/// <see cref="LoginFailureLimit"/>. The table is bounded: past <see cref="MaxClients"/> addresses the oldest entries
/// make room.</summary>
public sealed class LoginFailures(TimeProvider time)
{
    /// <summary>How many client addresses are remembered at most.</summary>
    public const int MaxClients = 16_384;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Entry> _clients = [];
    private long _longestWindowTicks;

    private struct Entry
    {
        public int Count;
        public long Last;
    }

    public TimeProvider Time { get; } = time;

    /// <summary>The failures of <paramref name="client"/> whose last came within <paramref name="window"/>; 0 once
    /// that has passed.</summary>
    public int Count(IPAddress client, TimeSpan window)
    {
        long now = Time.GetTimestamp();
        lock (_lock)
            return _clients.TryGetValue(client, out Entry entry) ? Current(entry, now, window) : 0;
    }

    /// <summary>Counts a failure of <paramref name="client"/> (its protocol's window is <paramref name="window"/>),
    /// with the failures before it that the longest window of any protocol still holds; returns the count.</summary>
    public int Add(IPAddress client, TimeSpan window)
    {
        long now = Time.GetTimestamp();
        lock (_lock)
        {
            if (window.Ticks > _longestWindowTicks)
                _longestWindowTicks = window.Ticks;
            _clients.TryGetValue(client, out Entry entry);
            // The count carries on while any protocol's window still holds it: a failure at a protocol with a shorter
            // window must not start the count afresh for one whose limit it has reached.
            int count = Current(entry, now, TimeSpan.FromTicks(_longestWindowTicks)) + 1;
            if (!_clients.ContainsKey(client) && _clients.Count >= MaxClients)
                MakeRoom(now);
            _clients[client] = new Entry { Count = count, Last = now };
            return count;
        }
    }

    private int Current(Entry entry, long now, TimeSpan window) =>
        entry.Count > 0 && Time.GetElapsedTime(entry.Last, now) < window ? entry.Count : 0;

    /// <summary>Drops the entries that every protocol's window has passed, and if none has, the one with the oldest
    /// failure.</summary>
    private void MakeRoom(long now)
    {
        var longest = TimeSpan.FromTicks(_longestWindowTicks);
        IPAddress? oldest = null;
        long oldestLast = long.MaxValue;
        foreach ((IPAddress address, Entry entry) in _clients)
        {
            if (Current(entry, now, longest) == 0)
                _clients.Remove(address);
            else if (entry.Last < oldestLast)
                (oldest, oldestLast) = (address, entry.Last);
        }
        if (_clients.Count >= MaxClients && oldest is not null)
            _clients.Remove(oldest);
    }
}
