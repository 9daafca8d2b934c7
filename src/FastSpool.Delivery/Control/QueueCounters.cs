namespace FastSpool.Delivery.Control;

/// <summary>Queue sizes for the admin endpoint and the metrics.</summary>
/// <param name="OldestArrival">Arrival of the oldest message in the queue, or null when it is empty.</param>
public sealed record QueueCounters(
    int Messages,
    int HeldMessages,
    int ActiveMessages,
    int PendingRecipients,
    int DeferredRecipients,
    DateTimeOffset? OldestArrival);
