namespace FastSpool.Delivery.Mbox;

/// <summary>The mailboxes that sessions in this process hold for a long time (a POP3 session holds its maildrop's
/// locks from login to QUIT), so that delivery into such a mailbox appends under the session's locks instead of
/// waiting for them, and a second session is told at once that the mailbox is in use.</summary>
public sealed class MailboxHolders
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, MailboxHold> _holds = new(StringComparer.Ordinal);

    /// <summary>Reserves <paramref name="path"/> for a new holder; false when another holds it.</summary>
    public bool TryReserve(string path, out MailboxHold hold)
    {
        lock (_lock)
        {
            if (_holds.ContainsKey(path))
            {
                hold = null!;
                return false;
            }
            hold = new MailboxHold(this, path);
            _holds.Add(path, hold);
            return true;
        }
    }

    /// <summary>The hold on <paramref name="path"/> whose locks are taken, if any.</summary>
    public bool TryFind(string path, out MailboxHold hold)
    {
        lock (_lock)
        {
            if (_holds.TryGetValue(path, out MailboxHold? found) && found.Lock is not null)
            {
                hold = found;
                return true;
            }
        }
        hold = null!;
        return false;
    }

    internal void Remove(MailboxHold hold)
    {
        lock (_lock)
        {
            if (_holds.TryGetValue(hold.Path, out MailboxHold? current) && ReferenceEquals(current, hold))
                _holds.Remove(hold.Path);
        }
    }
}
