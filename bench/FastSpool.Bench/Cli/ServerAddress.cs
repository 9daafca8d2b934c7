using System.Net;
using System.Net.Sockets;

namespace FastSpool.Bench.Cli;

/// <summary><c>HOST:PORT</c> or <c>[IPv6]:PORT</c>, resolved once before the run so that no connection waits for DNS.</summary>
internal sealed record ServerAddress(string Host, int Port)
{
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    public IPEndPoint Resolve()
    {
        if (IPAddress.TryParse(Host, out IPAddress? literal))
            return new IPEndPoint(literal, Port);
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(Host);
        }
        catch (SocketException e)
        {
            throw new UsageException($"--server: cannot resolve '{Host}': {e.Message}");
        }
        foreach (IPAddress address in addresses)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork)
                return new IPEndPoint(address, Port);
        }
        if (addresses.Length == 0)
            throw new UsageException($"--server: '{Host}' has no address");
        return new IPEndPoint(addresses[0], Port);
    }
}
