namespace FastSpool.Queue;

/// <summary>Kinds of records in the queue log.</summary>
public enum QueueRecordType : byte
{
    /// <summary>Part of a message body, written while the message is still being received.</summary>
    Chunk = 1,

    /// <summary>The message's commit marker: envelope, list of earlier chunks, and the last part of the body.
    /// A chunk set without an envelope is garbage.</summary>
    Envelope = 2,

    /// <summary>One recipient's delivery into one mailbox is finished (delivered, bounced, or given up).</summary>
    RecipientDone = 3,

    /// <summary>Written and committed before an mbox append: where the bytes will go, so that recovery can tell
    /// whether an interrupted append happened.</summary>
    DeliveryIntent = 4,

    /// <summary>The whole message was removed (by an admin, or because every recipient is finished).</summary>
    MessageRemoved = 5,
}
