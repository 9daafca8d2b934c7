using FastSpool.Delivery.Transport;

namespace FastSpool.Delivery.Routing;

/// <summary>Where one part of a recipient's delivery goes: a transport, its destination (a mailbox, a next hop),
/// and the part's name, unique within the recipient (the queue records parts done by it).</summary>
public readonly record struct Route(ITransport Transport, string Destination, string Part);
