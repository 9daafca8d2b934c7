namespace FastSpool.Queue;

/// <summary>Kinds of records in the queue log. A reader skips a kind it does not know (written by a newer
/// FastSpool of the same format version).</summary>
public enum QueueRecordType : byte
{
    /// <summary>Part of a message body, written while the message is still being received.</summary>
    Chunk = 1,

    /// <summary>The message's commit marker: envelope, list of earlier chunks, and the last part of the body.
    /// A chunk set without an envelope is garbage. A later envelope with the same id (a copy moved forward in
    /// the log) replaces the earlier one, recipient states included.</summary>
    Envelope = 2,

    /// <summary>One part of a recipient's delivery is done (one mailbox an alias leads to). Version 1 called it
    /// RecipientDone.</summary>
    PartDone = 3,

    /// <summary>A transport's crash record, committed before it writes (the local transport: which mbox region an
    /// append will fill). Opaque to the queue; recovery hands back those whose deliveries are not finished.
    /// Version 1 called it DeliveryIntent and gave it a fixed layout.</summary>
    Journal = 4,

    /// <summary>The whole message was removed (finished, or deleted by an admin).</summary>
    MessageRemoved = 5,

    /// <summary>A recipient's new state: deferred until T with the reply, sent, bounced.</summary>
    RecipientState = 6,

    /// <summary>Hold, release, or "delay notice sent", for the whole message.</summary>
    MessageControl = 7,
}
