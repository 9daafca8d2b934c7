namespace FastSpool.Server.Delivery;

internal enum DeliveryStatus : byte
{
    Delivered,

    /// <summary>Temporary: try again later (locked mailbox, I/O error, queue unavailable).</summary>
    Deferred,
}

/// <param name="Unresolved">An append that failed after its intent was committed: the mailbox's tail must be
/// checked against it before the mailbox is written again.</param>
internal readonly record struct DeliveryOutcome(DeliveryStatus Status, string Detail, FastSpool.Queue.DeliveryIntent? Unresolved = null)
{
    public static DeliveryOutcome Delivered { get; } = new(DeliveryStatus.Delivered, "delivered to mailbox");

    public static DeliveryOutcome Defer(string reason, FastSpool.Queue.DeliveryIntent? unresolved = null) =>
        new(DeliveryStatus.Deferred, reason, unresolved);
}
