namespace FastSpool.Delivery.Maildrop;

/// <summary>The outcome of <see cref="Maildrop.TryOpen"/>.</summary>
public enum MaildropOpenResult
{
    /// <summary>Locked and indexed.</summary>
    Opened,

    /// <summary>Another session, a MUA or delivery holds the mailbox (RFC 2449 <c>[IN-USE]</c>).</summary>
    InUse,

    /// <summary>The mailbox cannot be used: not a mailbox we may open, not an mbox, an I/O error (<c>[SYS/PERM]</c> or
    /// <c>[SYS/TEMP]</c> as the error says).</summary>
    Failed,
}
