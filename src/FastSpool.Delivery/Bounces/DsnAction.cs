namespace FastSpool.Delivery.Bounces;

/// <summary>The action-value of a per-recipient status group (RFC 3464 §2.3.3).</summary>
public enum DsnAction
{
    /// <summary>The message could not be delivered and will not be tried again.</summary>
    Failed,

    /// <summary>Not delivered yet; still being retried (a warning, not a bounce).</summary>
    Delayed,

    /// <summary>Delivered to the recipient's mailbox.</summary>
    Delivered,

    /// <summary>Passed on to a system that will not send delivery status notifications of its own.</summary>
    Relayed,

    /// <summary>Delivered to an alias or list, which passed it on to other recipients.</summary>
    Expanded,
}
