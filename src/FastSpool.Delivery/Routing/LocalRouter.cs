using FastSpool.Delivery.Transport;
using FastSpool.Queue;
using FastSpool.Users;
using Microsoft.Extensions.Logging;

namespace FastSpool.Delivery.Routing;

/// <summary>Routes by domain: a recipient at a local domain (or with no domain, as a bare postmaster) is resolved
/// through users, aliases and the machine's accounts into local mailboxes; a recipient elsewhere, and a remote
/// alias target, goes to the relay transport when there is one.</summary>
public sealed class LocalRouter : IRecipientRouter
{
    private readonly LocalRecipients _recipients;
    private readonly DomainSet _localDomains;
    private readonly ITransport _local;
    private readonly ITransport? _relay;
    private readonly string _relayDestination;
    private readonly ILogger _log;

    /// <param name="relayDestination">The relay's destination (the smarthost), one work list for all remote mail.</param>
    public LocalRouter(LocalRecipients recipients, DomainSet localDomains, ITransport local, ITransport? relay, ILogger log, string relayDestination = "")
    {
        _relayDestination = relayDestination;
        _recipients = recipients;
        _localDomains = localDomains;
        _local = local;
        _relay = relay;
        _log = log;
    }

    public DeliveryReply? Route(QueuedMessage message, int recipient, List<Route> routes)
    {
        string address = message.Recipients[recipient].Address;
        int at = address.LastIndexOf('@');
        if (at >= 0 && !IsLocalDomain(address.AsSpan(at + 1)))
            return Remote(address, routes);

        RecipientResolution resolution = _recipients.Resolve(at < 0 ? address.AsSpan() : address.AsSpan(0, at));
        // Indexed loops: foreach over an IReadOnlyList allocates an enumerator per list, per recipient.
        for (int p = 0; p < resolution.Problems.Count; p++)
            _log.LogWarning("{Id}: to=<{Rcpt}>: {Problem}", message.Id, address, resolution.Problems[p]);
        for (int m = 0; m < resolution.Mailboxes.Count; m++)
            routes.Add(new Route(_local, resolution.Mailboxes[m], resolution.Mailboxes[m]));
        int remote = 0;
        for (int r = 0; r < resolution.RemoteAddresses.Count; r++)
        {
            if (_relay is null)
                _log.LogWarning("{Id}: to=<{Rcpt}>, orig_to=<{Orig}>: forwarding to a remote address needs a relay (Relay:Smarthost); that copy is skipped", message.Id, resolution.RemoteAddresses[r], address);
            else
                routes.Add(new Route(_relay, _relayDestination, resolution.RemoteAddresses[r]));
            remote++;
        }
        if (routes.Count > 0)
            return null;
        if (remote > 0)
            return new DeliveryReply(550, "5.4.4", "forwarding to a remote address is not configured (no relay)");
        return new DeliveryReply(550, "5.1.1", "unknown user: " + (resolution.Reason ?? "no such local mailbox"));
    }

    private DeliveryReply? Remote(string address, List<Route> routes)
    {
        if (_relay is null)
            return new DeliveryReply(550, "5.4.4", "mail for remote domains is not relayed: no relay is configured");
        routes.Add(new Route(_relay, _relayDestination, address));
        return null;
    }

    private bool IsLocalDomain(ReadOnlySpan<char> domain) => _localDomains.Contains(domain);
}
