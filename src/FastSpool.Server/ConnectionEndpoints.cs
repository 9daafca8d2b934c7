using System.Net;

namespace FastSpool.Server;

/// <summary>The addresses of a Kestrel connection as the SMTP and POP3 engines use them: IPv4 clients on a dual-stack
/// socket come as IPv4 (what the logs, the limits and the relay networks expect).</summary>
internal static class ConnectionEndpoints
{
    /// <summary>The IP address of <paramref name="endpoint"/>, IPv4-mapped addresses unmapped; null for a Unix socket.</summary>
    public static IPAddress? Address(EndPoint? endpoint) => endpoint is IPEndPoint ip
        ? ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address
        : null;

    /// <summary>Whether <paramref name="endpoint"/> is a loopback address.</summary>
    public static bool IsLoopback(EndPoint? endpoint) => Address(endpoint) is { } address && IPAddress.IsLoopback(address);
}
