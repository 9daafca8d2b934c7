namespace FastSpool.Users;

/// <summary>The RCPT answer for a local part: deliverable, or why not.</summary>
public enum LocalPartCheck
{
    Deliverable,

    /// <summary>No user, alias or mail-receiving account of that name.</summary>
    Unknown,

    /// <summary>An alias that leads back to itself and to no mailbox.</summary>
    AliasLoop,

    /// <summary>An alias whose only targets are remote addresses, while there is no relay to send them.</summary>
    AliasOnlyRemote,

    /// <summary>An alias whose targets are all unknown.</summary>
    AliasToNobody,
}
