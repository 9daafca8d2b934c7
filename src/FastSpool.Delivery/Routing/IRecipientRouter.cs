using FastSpool.Queue;

namespace FastSpool.Delivery.Routing;

/// <summary>Classifies and resolves recipients (Postfix's trivial-rewrite and local alias expansion): local or
/// remote by domain, aliases expanded. Runs on the queue manager's intake worker, never on the commit loop.</summary>
public interface IRecipientRouter
{
    /// <summary>Adds the recipient's routes to <paramref name="routes"/>; returns null when there is at least one,
    /// or the failure (5xx: the recipient bounces; 4xx: it is deferred) when there is none.</summary>
    DeliveryReply? Route(QueuedMessage message, int recipient, List<Route> routes);
}
