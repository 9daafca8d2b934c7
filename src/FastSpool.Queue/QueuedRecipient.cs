using FastSpool.Protocols.Smtp;
namespace FastSpool.Queue;

/// <summary>One envelope recipient and its delivery state, rebuilt from the log at recovery. The queue manager
/// changes it under its own lock and records every change in the log.</summary>
public sealed class QueuedRecipient
{
    /// <summary>State changes kept for <c>queue show</c>; older ones are dropped.</summary>
    public const int MaxHistory = 32;

    // The first part done is kept on its own: most recipients have one part, and a list for it would be garbage.
    private string? _firstPartDone;
    private List<string>? _partsDone;
    private List<RecipientEvent>? _history;

    /// <summary>Forward path without angle brackets.</summary>
    public required string Address { get; init; }

    /// <summary>RFC 3461 ORCPT as given (<c>rfc822;user@example.org</c>, xtext decoded), or null.</summary>
    public string? OriginalRecipient { get; init; }

    public DsnNotify Notify { get; init; }

    public RecipientStatus Status { get; set; }

    public int Attempts { get; set; }

    // Every queued recipient has this field: UTC ticks, or NoNextAttempt, take 8 bytes where a DateTimeOffset? takes 24.
    private const long NoNextAttempt = long.MinValue;
    private long _nextAttemptTicks = NoNextAttempt;

    /// <summary>When a deferred recipient is tried next (kept in UTC, as every time in the queue is).</summary>
    public DateTimeOffset? NextAttempt
    {
        get => _nextAttemptTicks == NoNextAttempt ? null : new DateTimeOffset(_nextAttemptTicks, TimeSpan.Zero);
        set => _nextAttemptTicks = value?.UtcTicks ?? NoNextAttempt;
    }

    public DeliveryReply? LastReply { get; set; }

    /// <summary>Which notices (Failure, Success) the sender was sent for this recipient.</summary>
    public DsnNotify Notified { get; set; }

    public bool IsFinal => Status is RecipientStatus.Sent or RecipientStatus.Bounced;

    public IReadOnlyList<RecipientEvent> History => (IReadOnlyList<RecipientEvent>?)_history ?? [];

    /// <summary>Parts of this recipient's delivery that are done (the mailboxes an alias leads to, each once).</summary>
    public IReadOnlyList<string> PartsDone => (IReadOnlyList<string>?)_partsDone ?? (_firstPartDone is null ? [] : [_firstPartDone]);

    public bool IsPartDone(string part)
    {
        if (_firstPartDone is not null && string.Equals(_firstPartDone, part, StringComparison.Ordinal))
            return true;
        if (_partsDone is null)
            return false;
        foreach (string done in _partsDone)
        {
            if (string.Equals(done, part, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    public void MarkPartDone(string part)
    {
        if (IsPartDone(part))
            return;
        if (_firstPartDone is null)
            _firstPartDone = part;
        else
            (_partsDone ??= [_firstPartDone]).Add(part);
    }

    public void AddHistory(RecipientEvent entry)
    {
        _history ??= [];
        if (_history.Count >= MaxHistory)
            _history.RemoveAt(0);
        _history.Add(entry);
    }

    /// <summary>Whether the sender asked for (or, by default, gets) a notice of this kind.</summary>
    public bool Wants(DsnNotify kind) =>
        (Notify & DsnNotify.Never) == 0
        && (Notify == DsnNotify.None ? kind is DsnNotify.Failure or DsnNotify.Delay : (Notify & kind) != 0);
}
