using System.Net;
using FastSpool.Configuration;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Smtp;

/// <summary>Counts a protocol's connections (SMTP's, POP3's), as Postfix's anvil does: the server's concurrent connections, and per client
/// address the concurrent connections and the new connections in the current minute. Clients in the exempt networks
/// count only toward the server's limit. A refusal is logged at most once a minute per client (and once a minute for
/// the server's limit), with the number refused since the last such line.</summary>
internal sealed class ConnectionLimiter
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Client> _clients = [];
    private IPNetwork[] _exempt = [];
    private int _maxConnections;
    private int _maxPerClient;
    private int _ratePerClient;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly string _section;
    private readonly string _refusal;
    private int _connections;
    private long _lastSweep;
    private long _serverFullLogged;
    private int _serverFullRefused;

    public ConnectionLimiter(SmtpOptions options, TimeProvider time, ILogger log)
        : this("Smtp", "421", time, log) => Apply(options);

    /// <param name="section">The configuration section the limits come from, for the log (<c>Pop3</c>).</param>
    /// <param name="refusal">What a refused client is answered, for the log (<c>421</c>, <c>-ERR</c>).</param>
    public ConnectionLimiter(string section, string refusal, TimeProvider time, ILogger log)
    {
        _section = section;
        _refusal = refusal;
        _time = time;
        _log = log;
        _lastSweep = time.GetTimestamp();
        _serverFullLogged = _lastSweep - (long)(Minute.TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>Takes the limits of <paramref name="options"/> (at start, and on a reload); open connections stay.</summary>
    public void Apply(SmtpOptions options) =>
        Apply(options.MaxConnections, options.MaxConnectionsPerClient, options.ConnectionRatePerClient, options.ConnectionLimitExemptions);

    /// <summary>Takes new limits; open connections stay.</summary>
    public void Apply(int maxConnections, int maxPerClient, int ratePerClient, IEnumerable<string>? exemptions)
    {
        IPNetwork[] exempt = [.. (exemptions ?? []).Where(n => !string.IsNullOrWhiteSpace(n)).Select(Network)];
        lock (_lock)
        {
            _maxConnections = maxConnections;
            _maxPerClient = maxPerClient;
            _ratePerClient = ratePerClient;
            _exempt = exempt;
        }
    }

    /// <summary>One client address's counters.</summary>
    private sealed class Client
    {
        public int Connections;
        public int InWindow;
        public long WindowStarted;
        public long Logged;
        public int Refused;
    }

    /// <summary>Connections open now (admitted and not yet released).</summary>
    public int Connections
    {
        get
        {
            lock (_lock)
                return _connections;
        }
    }

    /// <summary>Counts a new connection from <paramref name="address"/> (null: not an IP client, which only the
    /// server's limit applies to). An admitted connection must be released once.</summary>
    public ConnectionAdmission TryAdmit(IPAddress? address)
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            Client? client = null;
            if (address is not null && (_maxPerClient > 0 || _ratePerClient > 0) && !IsExempt(address))
            {
                SweepIfDue(now);
                if (!_clients.TryGetValue(address, out client))
                {
                    client = new Client { WindowStarted = now, Logged = now - MinuteTicks };
                    _clients.Add(address, client);
                }
                if (_ratePerClient > 0)
                {
                    if (_time.GetElapsedTime(client.WindowStarted, now) >= Minute)
                        (client.WindowStarted, client.InWindow) = (now, 0);
                    // Refused attempts count as well: the limit is on how fast the client knocks.
                    if (++client.InWindow > _ratePerClient)
                        return Refuse(address, client, now, ConnectionAdmission.TooFastFromClient, client.InWindow);
                }
                if (_maxPerClient > 0 && client.Connections >= _maxPerClient)
                    return Refuse(address, client, now, ConnectionAdmission.TooManyFromClient, client.Connections + 1);
            }
            if (_connections >= _maxConnections)
                return RefuseServerFull(address, now);
            _connections++;
            if (client is not null)
                client.Connections++;
            return ConnectionAdmission.Admitted;
        }
    }

    /// <summary>Ends a connection that <see cref="TryAdmit"/> admitted.</summary>
    public void Release(IPAddress? address)
    {
        lock (_lock)
        {
            _connections--;
            if (address is not null && _clients.TryGetValue(address, out Client? client))
                client.Connections--;
        }
    }

    private long MinuteTicks => (long)(Minute.TotalSeconds * _time.TimestampFrequency);

    private bool IsExempt(IPAddress address)
    {
        foreach (IPNetwork network in _exempt)
        {
            if (network.Contains(address))
                return true;
        }
        return false;
    }

    /// <summary>Forgets, once a minute, the clients with no connection open, no window running and no refusal
    /// logged in the last minute: the table holds only clients that are or were just now active.</summary>
    private void SweepIfDue(long now)
    {
        if (_time.GetElapsedTime(_lastSweep, now) < Minute)
            return;
        _lastSweep = now;
        foreach ((IPAddress address, Client client) in _clients)
        {
            if (client.Connections == 0 && _time.GetElapsedTime(client.WindowStarted, now) >= Minute
                && _time.GetElapsedTime(client.Logged, now) >= Minute)
            {
                _clients.Remove(address);
            }
        }
    }

    private ConnectionAdmission Refuse(IPAddress address, Client client, long now, ConnectionAdmission reason, int count)
    {
        client.Refused++;
        if (_time.GetElapsedTime(client.Logged, now) >= Minute)
        {
            client.Logged = now;
            if (reason == ConnectionAdmission.TooFastFromClient)
            {
                _log.LogWarning("connection rate limit exceeded: {Count} from [{Client}] this minute ({Section}:ConnectionRatePerClient {Limit}); {Refused} refused with {Refusal} since the last such line",
                    count, address, _section, _ratePerClient, client.Refused, _refusal);
            }
            else
            {
                _log.LogWarning("connection count limit exceeded: {Count} from [{Client}] ({Section}:MaxConnectionsPerClient {Limit}); {Refused} refused with {Refusal} since the last such line",
                    count, address, _section, _maxPerClient, client.Refused, _refusal);
            }
            client.Refused = 0;
        }
        return reason;
    }

    private ConnectionAdmission RefuseServerFull(IPAddress? address, long now)
    {
        _serverFullRefused++;
        if (_time.GetElapsedTime(_serverFullLogged, now) >= Minute)
        {
            _serverFullLogged = now;
            _log.LogWarning("connection limit reached: {Count} connections open ({Section}:MaxConnections); {Refused} refused with {Refusal} since the last such line, this one from [{Client}]",
                _connections, _section, _serverFullRefused, _refusal, address?.ToString() ?? "unknown");
            _serverFullRefused = 0;
        }
        return ConnectionAdmission.ServerFull;
    }

    private static IPNetwork Network(string text) =>
        OptionsValidator.TryParseNetwork(text, out IPNetwork network) ? network : throw new InvalidOperationException($"ConnectionLimitExemptions: '{text}' is not a network");
}
