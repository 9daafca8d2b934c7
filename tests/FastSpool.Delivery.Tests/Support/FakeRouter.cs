using FastSpool.Delivery.Routing;
using FastSpool.Delivery.Transport;
using FastSpool.Queue;

namespace FastSpool.Delivery.Tests.Support;

/// <summary>Routes a known recipient to one transport, its destination and part being the address's local part; an
/// alias leads to several destinations; anything else is an unknown user (550 5.1.1).</summary>
internal sealed class FakeRouter(ITransport transport) : IRecipientRouter
{
    private readonly Dictionary<string, string[]> _destinations = new(StringComparer.Ordinal);

    /// <summary>Local parts delivered to a destination of the same name.</summary>
    public void Add(params string[] localParts)
    {
        lock (_destinations)
        {
            foreach (string localPart in localParts)
                _destinations[localPart] = [localPart];
        }
    }

    public void Alias(string localPart, params string[] destinations)
    {
        lock (_destinations)
            _destinations[localPart] = destinations;
    }

    public DeliveryReply? Route(QueuedMessage message, int recipient, List<Route> routes)
    {
        string address = message.Recipients[recipient].Address;
        int at = address.LastIndexOf('@');
        string localPart = at < 0 ? address : address[..at];
        string[]? destinations;
        lock (_destinations)
            _destinations.TryGetValue(localPart, out destinations);
        if (destinations is null)
            return new DeliveryReply(550, "5.1.1", $"<{address}>: Recipient address rejected: User unknown");
        foreach (string destination in destinations)
            routes.Add(new Route(transport, destination, destination));
        return null;
    }
}
