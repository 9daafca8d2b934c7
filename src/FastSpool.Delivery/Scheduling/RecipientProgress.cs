using FastSpool.Queue;

namespace FastSpool.Delivery.Scheduling;

/// <summary>The queue manager's working state for one recipient's current attempt (not kept in the log).</summary>
internal struct RecipientProgress
{
    /// <summary>Items of the attempt queued or in flight.</summary>
    public int Outstanding;

    /// <summary>The worst answer so far: permanent over temporary.</summary>
    public DeliveryReply? Outcome;

    /// <summary>The transport (or "none") that gave <see cref="Outcome"/>, for the log's relay=.</summary>
    public string? Relay;

    /// <summary>That transport hands mail to another host: with no host in <see cref="Outcome"/>, the log says
    /// <c>relay=none</c> (no host answered).</summary>
    public bool Remote;

    /// <summary>An item was dropped because the message was held or deleted meanwhile: no attempt was made.</summary>
    public bool Withdrawn;

    /// <summary>The retry time of the destination that failed (deferred mail comes back together); default when none
    /// (not nullable: the entry is inline in every tracked message, and a nullable time takes 8 bytes more).</summary>
    public DateTimeOffset NotBefore;

    /// <summary>The transport's reply for the part delivered last (the reply a success notice quotes).</summary>
    public DeliveryReply? Delivered;

    /// <summary>Some part of the attempt was really tried (routed, or handed to a transport): only then does the
    /// recipient's attempt count grow; mail deferred because its destination is suspended was not tried.</summary>
    public bool Tried;

    /// <summary>Requeued by an admin and not routed since: its destinations start their backoff again.</summary>
    public bool Requeued;
}
