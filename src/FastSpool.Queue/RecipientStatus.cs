namespace FastSpool.Queue;

/// <summary>A recipient's state in the queue. Held is a message's state, not a recipient's.</summary>
public enum RecipientStatus
{
    /// <summary>Not tried yet, or being tried now.</summary>
    Pending,

    /// <summary>A temporary failure: tried again at the recipient's next attempt time.</summary>
    Deferred,

    /// <summary>Delivered (into a mailbox, or to the next hop).</summary>
    Sent,

    /// <summary>A permanent failure; the sender is notified.</summary>
    Bounced,
}
