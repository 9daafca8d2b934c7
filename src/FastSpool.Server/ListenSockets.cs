using System.Net;
using System.Net.Sockets;
using FastSpool.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace FastSpool.Server;

/// <summary>Creates and binds the listening sockets for Kestrel (its <c>CreateBoundListenSocket</c> hook), so that a
/// bind failure says which endpoint and why in the admin's words, and so that <c>0.0.0.0:25</c> and <c>[::]:25</c>
/// can be listed together: an IPv6 wildcard is dual-stack only when no IPv4 wildcard shares its port.</summary>
internal sealed class ListenSockets
{
    private readonly HashSet<int> _ipv4WildcardPorts = [];
    private readonly Dictionary<IPEndPoint, string> _names = [];

    public ListenSockets(IEnumerable<(string Name, IPEndPoint EndPoint)> endpoints)
    {
        foreach ((string name, IPEndPoint endpoint) in endpoints)
        {
            _names.TryAdd(endpoint, name);
            if (endpoint.Address.Equals(IPAddress.Any))
                _ipv4WildcardPorts.Add(endpoint.Port);
        }
    }

    /// <summary>The endpoints of <paramref name="key"/> (<c>Smtp:Listen</c>, <c>Metrics:Listen</c>), with the text
    /// they were configured as.</summary>
    public static List<(string Name, IPEndPoint EndPoint)> Parse(string key, IEnumerable<string> listen)
    {
        var endpoints = new List<(string, IPEndPoint)>();
        foreach (string text in listen)
        {
            if (!OptionsValidator.TryParseEndpoint(text, out IPEndPoint endpoint))
                throw new InvalidOperationException($"{key}: '{text}' is not an endpoint");
            endpoints.Add((text, endpoint));
        }
        return endpoints;
    }

    public Socket Create(EndPoint endpoint)
    {
        if (endpoint is not IPEndPoint ip)
            return SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint); // the control socket
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.AddressFamily == AddressFamily.InterNetworkV6)
                socket.DualMode = ip.Address.Equals(IPAddress.IPv6Any) && !_ipv4WildcardPorts.Contains(ip.Port);
            socket.NoDelay = true;
            socket.Bind(ip);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            string name = _names.TryGetValue(ip, out string? configured) ? configured : ip.ToString();
            (StartFailure failure, string why) = e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => (StartFailure.AddressInUse, "address already in use"),
                SocketError.AddressNotAvailable => (StartFailure.AddressNotAvailable, "not an address of this host"),
                SocketError.AccessDenied => (StartFailure.PermissionDenied,
                    ip.Port < 1024 ? "permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)" : "permission denied"),
                _ => (StartFailure.AddressNotAvailable, e.Message.ToLowerInvariant()),
            };
            throw new ServerStartException(failure, $"cannot listen on {name}: {why}", e);
        }
    }
}
