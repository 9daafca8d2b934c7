using FastSpool.Posix;

namespace FastSpool.Delivery.Mbox;

/// <summary>Whose a mailbox is. The server's own (the users of the users file): created as the server's user. A
/// login account's: a new mailbox is given to the account (its uid, the mail directory's group), and an existing one
/// must already be the account's, as Postfix's local(8) and mail.local do it.</summary>
public readonly record struct MailboxOwner(uint UserId, bool IsAccount)
{
    /// <summary>The server's effective user.</summary>
    public static MailboxOwner Server => new(Libc.GetEffectiveUserId(), IsAccount: false);

    public static MailboxOwner Account(uint userId) => new(userId, IsAccount: true);
}
