using System.Net;
using FastSpool.Configuration;
using FastSpool.Users;

namespace FastSpool.Server.Smtp;

/// <summary>Who may send mail where (no open relay, DESIGN invariant 5): mail for a local domain from anyone; mail
/// for any other domain only from a client that may relay (in <c>Relay:Networks</c>, or authenticated with SMTP AUTH:
/// <see cref="MayRelay"/> and nowhere else), and only when a smarthost is configured. A local part
/// that routes by itself (<c>user%host@</c>, <c>host!user@</c>, a quoted <c>"user@host"@</c>) is refused as a
/// relay attempt for a client that may not relay, and is never rewritten into a remote address for one that may:
/// it is looked up as the local part it is. A source route (<c>@a,@b:user@c</c>) is dropped by the parser (RFC 5321
/// Appendix C), so only <c>user@c</c> counts.</summary>
internal sealed class RelayPolicy
{
    private readonly IPNetwork[] _networks;
    private readonly DomainSet _localDomains;

    public RelayPolicy(RelayOptions options, DomainSet localDomains)
    {
        _networks = [.. (options.Networks ?? []).Where(n => !string.IsNullOrWhiteSpace(n))
            .Select(n => OptionsValidator.TryParseNetwork(n, out IPNetwork network) ? network : throw new ArgumentException($"Relay:Networks: '{n}' is not a network"))];
        _localDomains = localDomains;
        RelayConfigured = options.Smarthost is not null;
    }

    /// <summary>A smarthost is configured: mail for other domains has somewhere to go.</summary>
    public bool RelayConfigured { get; }

    /// <summary>Whether a client may send mail to any domain: it is in a trusted network, or it has authenticated.</summary>
    public bool MayRelay(IPAddress? client, bool authenticated)
    {
        if (authenticated)
            return true;
        if (client is null)
            return false;
        if (client.IsIPv4MappedToIPv6)
            client = client.MapToIPv4();
        foreach (IPNetwork network in _networks)
        {
            if (network.Contains(client))
                return true;
        }
        return false;
    }

    /// <summary>The decision for one RCPT (the bare postmaster aside, which is always local).</summary>
    public RelayDecision Decide(ReadOnlySpan<byte> localPart, ReadOnlySpan<byte> domain, bool mayRelay)
    {
        if (domain.IsEmpty || _localDomains.Contains(domain))
            return !mayRelay && IsSenderRouted(localPart) ? RelayDecision.Denied : RelayDecision.Local;
        if (!mayRelay)
            return RelayDecision.Denied;
        return RelayConfigured ? RelayDecision.Relay : RelayDecision.NotConfigured;
    }

    /// <summary>A local part that names another host by itself: <c>%</c>, <c>!</c>, or an <c>@</c> inside quotes.</summary>
    public static bool IsSenderRouted(ReadOnlySpan<byte> localPart) => localPart.IndexOfAny("%!@"u8) >= 0;
}
