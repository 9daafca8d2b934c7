namespace FastSpool.Delivery.Mbox;

/// <summary>The outcome of <see cref="MailboxFile.TryOpen"/>.</summary>
public enum MailboxOpenResult
{
    /// <summary>Open and locked.</summary>
    Opened,

    /// <summary>Another process held the lock until the timeout: defer the delivery (4.2.0).</summary>
    Locked,

    /// <summary>The path is not a mailbox we may write to (symbolic link, not a regular file, more than one hard
    /// link, another owner). Needs the administrator.</summary>
    Refused,

    /// <summary>An I/O error; temporary.</summary>
    Failed,
}
