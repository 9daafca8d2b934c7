namespace FastSpool.Delivery.Mbox;

/// <summary>What <see cref="MailboxFile.CheckRegion"/> found where an interrupted append was recorded.</summary>
public enum MailboxRegionState
{
    /// <summary>The recorded bytes are there with the recorded checksum: the append completed.</summary>
    Present,

    /// <summary>The mailbox ends at the recorded offset: nothing was written.</summary>
    Absent,

    /// <summary>The mailbox held an incomplete or garbled append past the offset; it was truncated back to the
    /// offset, so the message can be appended again.</summary>
    RolledBack,

    /// <summary>The mailbox no longer fits the record (shorter than the offset, or different bytes followed by
    /// more): something else rewrote it. Deliver again and warn.</summary>
    Changed,

    /// <summary>Another process held the lock until the timeout; check again later.</summary>
    Locked,

    /// <summary>An I/O error; check again later.</summary>
    Failed,
}
