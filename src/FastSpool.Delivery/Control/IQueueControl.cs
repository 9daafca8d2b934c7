namespace FastSpool.Delivery.Control;

/// <summary>What the admin endpoint (and through it <c>fastspool mailq</c>, <c>flush</c>, <c>hold</c>, <c>release</c>,
/// <c>requeue</c>, <c>delete</c>, <c>queue show</c>) may see and do in the running queue manager. Ids are the queue
/// ids as shown in the log (13 upper-case hex digits); an id the queue does not hold is returned in
/// <see cref="ControlResult.Unknown"/>, never an exception. <paramref name="who"/> names the asker for the log
/// (for example <c>uid 0</c>). Verbs complete once what they changed is durable (a hold survives a crash once
/// acknowledged).</summary>
public interface IQueueControl
{
    /// <summary>Every message in the queue, oldest first.</summary>
    IReadOnlyList<QueuedMessageView> List();

    /// <summary>One message with its recipients' history, or null when the queue does not hold it.</summary>
    QueuedMessageView? Find(string id);

    /// <summary>The message's header section as received (CRLF line ends), or null when the queue does not hold it.</summary>
    ValueTask<string?> ReadHeadersAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Deferred recipients of the named messages (all messages when <paramref name="ids"/> is empty) are
    /// tried now (sendmail -q, postqueue -f / -i ID). Held messages stay held.</summary>
    ValueTask<ControlResult> FlushAsync(IReadOnlyList<string> ids, string who);

    /// <summary>Stops delivery of the messages until released; durable across restarts.</summary>
    ValueTask<ControlResult> HoldAsync(IReadOnlyList<string> ids, string who);

    ValueTask<ControlResult> ReleaseAsync(IReadOnlyList<string> ids, string who);

    /// <summary>Deferred recipients are tried again now, with their backoff reset; held messages are released.</summary>
    ValueTask<ControlResult> RequeueAsync(IReadOnlyList<string> ids, string who);

    /// <summary>Removes messages for good (logged as <c>ID: removed (deleted by WHO)</c>). With
    /// <paramref name="bounce"/> the senders get a non-delivery notification for the recipients not yet done.</summary>
    ValueTask<ControlResult> DeleteAsync(IReadOnlyList<string> ids, bool bounce, string who);

    /// <summary>Removes every message (<see cref="DeleteScope.All"/>) or every message with a deferred recipient.</summary>
    ValueTask<ControlResult> DeleteAllAsync(DeleteScope scope, bool bounce, string who);

    QueueCounters Counters();
}
