using FastSpool.Delivery.Control;

namespace FastSpool.Server.Admin;

/// <summary>The answer to <c>GET /queue</c>: every message, oldest first.</summary>
public sealed record QueueListing(IReadOnlyList<QueuedMessageView> Messages);
