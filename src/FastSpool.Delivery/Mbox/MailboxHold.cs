namespace FastSpool.Delivery.Mbox;

/// <summary>A session's hold on a mailbox (<see cref="MailboxHolders"/>). Whoever writes the file while it is held
/// (the holder's own rewrite, an append of delivery's) first takes <see cref="Gate"/>, then checks
/// <see cref="IsReleased"/>.</summary>
public sealed class MailboxHold
{
    private readonly MailboxHolders _owner;

    internal MailboxHold(MailboxHolders owner, string path)
    {
        _owner = owner;
        Path = path;
    }

    public string Path { get; }

    /// <summary>The locks, once taken; null while the holder is still taking them.</summary>
    public MailboxLock? Lock { get; private set; }

    /// <summary>One writer at a time.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>The holder let go: write through the locks of your own.</summary>
    public bool IsReleased { get; private set; }

    /// <summary>Publishes the locks the holder has taken.</summary>
    public void Attach(MailboxLock held) => Lock = held;

    /// <summary>Takes the hold out of the table: from now on writers take the mailbox's locks themselves (they wait
    /// until the holder has released them). Call with <see cref="Gate"/> held, or before <see cref="Attach"/>.</summary>
    public void Release()
    {
        IsReleased = true;
        _owner.Remove(this);
    }
}
