namespace FastSpool.Server.Delivery;

internal enum DeliveryStatus : byte
{
    Delivered,

    /// <summary>Temporary: try again later (locked mailbox, I/O error, queue unavailable).</summary>
    Deferred,
}

internal readonly record struct DeliveryOutcome(DeliveryStatus Status, string Detail)
{
    public static DeliveryOutcome Delivered { get; } = new(DeliveryStatus.Delivered, "delivered to mailbox");

    public static DeliveryOutcome Defer(string reason) => new(DeliveryStatus.Deferred, reason);
}
