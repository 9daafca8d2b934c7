using System.Buffers;
using System.Text;
using FastSpool.Delivery.Control;
using FastSpool.Logging;
using FastSpool.Queue;
using Microsoft.Extensions.Logging;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Delivery.Scheduling;

/// <summary>What the admin sees and edits (mailq, flush, hold, release, requeue, delete, queue show), and the
/// queue's counters.</summary>
public sealed partial class QueueManager
{
    public QueueCounters Counters()
    {
        lock (_lock)
        {
            int held = 0, active = 0, pending = 0, deferred = 0;
            DateTimeOffset? oldest = null;
            foreach (Tracked tracked in _messages.Values)
            {
                QueuedMessage message = tracked.Message;
                if (message.Held)
                    held++;
                if (tracked.InFlight > 0)
                    active++;
                if (oldest is null || message.Arrival < oldest)
                    oldest = message.Arrival;
                foreach (QueuedRecipient recipient in message.Recipients)
                {
                    if (recipient.Status == RecipientStatus.Pending)
                        pending++;
                    else if (recipient.Status == RecipientStatus.Deferred)
                        deferred++;
                }
            }
            return new QueueCounters(_messages.Count, held, active, pending, deferred, oldest);
        }
    }

    public IReadOnlyList<QueuedMessageView> List()
    {
        lock (_lock)
        {
            var views = new List<QueuedMessageView>(_messages.Count);
            foreach (Tracked tracked in _messages.Values)
                views.Add(View(tracked, history: false));
            views.Sort(static (a, b) => a.Arrival != b.Arrival ? a.Arrival.CompareTo(b.Arrival) : string.CompareOrdinal(a.Id, b.Id));
            return views;
        }
    }

    public QueuedMessageView? Find(string id)
    {
        lock (_lock)
            return Lookup(id) is { } tracked ? View(tracked, history: true) : null;
    }

    public async ValueTask<string?> ReadHeadersAsync(string id, CancellationToken cancellationToken = default)
    {
        QueuedMessage? message;
        lock (_lock)
            message = Lookup(id)?.Message;
        if (message is null)
            return null;
        using MessageBody body = await _queue.ReadBodyAsync(message, cancellationToken).ConfigureAwait(false);
        ReadOnlySequence<byte> content = body.Content;
        var reader = new SequenceReader<byte>(content);
        ReadOnlySequence<byte> headers = reader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8) ? head : content;
        return Encoding.UTF8.GetString(headers) + "\r\n";
    }

    public ValueTask<ControlResult> FlushAsync(IReadOnlyList<string> ids, string who)
    {
        var done = new List<string>();
        var unknown = new List<string>();
        var posted = new List<Tracked>();
        lock (_lock)
        {
            DateTimeOffset now = _time.GetUtcNow();
            LiftSuspensions();
            foreach (Tracked tracked in Select(ids, unknown))
            {
                MakeDueNow(tracked, now);
                posted.Add(tracked);
                done.Add(tracked.Message.Id.ToString());
            }
        }
        foreach (Tracked tracked in posted)
            Post(tracked);
        _log.LogInformation("flush requested by {Who}: {Count} messages", who, done.Count);
        return ValueTask.FromResult(new ControlResult(done, unknown));
    }

    public async ValueTask<ControlResult> HoldAsync(IReadOnlyList<string> ids, string who)
    {
        var done = new List<string>();
        var unknown = new List<string>();
        foreach (Tracked tracked in Snapshot(ids, unknown))
        {
            QueuedMessage message = tracked.Message;
            if (!BeginControl(tracked))
            {
                unknown.Add(message.Id.ToString());
                continue;
            }
            try
            {
                await _queue.RecordControlAsync(message.Id, MessageControlAction.Hold, _time.GetUtcNow(), who).ConfigureAwait(false);
                lock (_lock)
                {
                    if (message.Removed)
                    {
                        unknown.Add(message.Id.ToString());
                        continue;
                    }
                    message.Held = true;
                    _log.Line(LogLevel.Information, $"{message.Id}: hold (by {who})");
                }
            }
            finally
            {
                EndControl(tracked);
            }
            done.Add(message.Id.ToString());
        }
        return new ControlResult(done, unknown);
    }

    public ValueTask<ControlResult> ReleaseAsync(IReadOnlyList<string> ids, string who) => ReleaseAsync(ids, who, requeue: false);

    public ValueTask<ControlResult> RequeueAsync(IReadOnlyList<string> ids, string who) => ReleaseAsync(ids, who, requeue: true);

    private async ValueTask<ControlResult> ReleaseAsync(IReadOnlyList<string> ids, string who, bool requeue)
    {
        var done = new List<string>();
        var unknown = new List<string>();
        foreach (Tracked tracked in Snapshot(ids, unknown))
        {
            QueuedMessage message = tracked.Message;
            if (!BeginControl(tracked))
            {
                unknown.Add(message.Id.ToString());
                continue;
            }
            try
            {
                await ReleaseAsync(tracked, who, requeue).ConfigureAwait(false);
            }
            finally
            {
                EndControl(tracked);
            }
            if (message.Removed)
                unknown.Add(message.Id.ToString());
            else
                done.Add(message.Id.ToString());
        }
        return new ControlResult(done, unknown);
    }

    /// <summary>Releases (and with <paramref name="requeue"/> requeues) one message; nothing when it is gone.</summary>
    private async ValueTask ReleaseAsync(Tracked tracked, string who, bool requeue)
    {
        QueuedMessage message = tracked.Message;
        bool held;
        lock (_lock)
            held = message.Held;
        if (held)
            await _queue.RecordControlAsync(message.Id, MessageControlAction.Release, _time.GetUtcNow(), who).ConfigureAwait(false);
        var recorded = new List<Task>();
        lock (_lock)
        {
            if (message.Removed)
                return;
            message.Held = false;
            if (held)
                _log.Line(LogLevel.Information, $"{message.Id}: released (by {who})");
            if (requeue)
            {
                DateTimeOffset now = _time.GetUtcNow();
                for (int r = 0; r < message.Recipients.Length; r++)
                {
                    QueuedRecipient recipient = message.Recipients[r];
                    if (recipient.Status == RecipientStatus.Deferred)
                    {
                        recipient.Attempts = 0;
                        recipient.NextAttempt = now;
                        tracked.Progress(r).Requeued = true;
                        // Recorded, so that a restart keeps the new count (and so the backoff and the lifetime
                        // notices that depend on it); the admin's answer waits for the commit.
                        recorded.Add(_queue.RecordRecipientStateAsync(message.Id, r, recipient, now, durable: true).AsTask());
                    }
                }
                _log.Line(LogLevel.Information, $"{message.Id}: requeued (by {who})");
            }
        }
        await Task.WhenAll(recorded).ConfigureAwait(false);
        Post(tracked);
    }

    /// <summary>An admin's change is being recorded: until its effect is in memory, the message is not copied
    /// forward (a copy made in between would carry the old state past the record, and truncation could then drop
    /// the record). False when the message is gone.</summary>
    private bool BeginControl(Tracked tracked)
    {
        lock (_lock)
        {
            if (tracked.Message.Removed)
                return false;
            tracked.PendingControl++;
            return true;
        }
    }

    private void EndControl(Tracked tracked)
    {
        lock (_lock)
            tracked.PendingControl--;
    }

    public async ValueTask<ControlResult> DeleteAsync(IReadOnlyList<string> ids, bool bounce, string who)
    {
        var unknown = new List<string>();
        return new ControlResult(await DeleteAsync(Snapshot(ids, unknown), bounce, who).ConfigureAwait(false), unknown);
    }

    public async ValueTask<ControlResult> DeleteAllAsync(DeleteScope scope, bool bounce, string who)
    {
        List<Tracked> chosen;
        lock (_lock)
        {
            chosen = [];
            foreach (Tracked tracked in _messages.Values)
            {
                if (scope == DeleteScope.All || Array.Exists(tracked.Message.Recipients, r => r.Status == RecipientStatus.Deferred))
                    chosen.Add(tracked);
            }
        }
        return new ControlResult(await DeleteAsync(chosen, bounce, who).ConfigureAwait(false), []);
    }

    private async ValueTask<List<string>> DeleteAsync(List<Tracked> chosen, bool bounce, string who)
    {
        var done = new List<string>();
        foreach (Tracked tracked in chosen)
        {
            QueuedMessage message = tracked.Message;
            if (bounce)
            {
                lock (_lock)
                {
                    if (message.Removed)
                        continue;
                    DateTimeOffset now = _time.GetUtcNow();
                    var reply = new DeliveryReply(550, "5.0.0", $"message deleted from the queue by the administrator ({who})");
                    tracked.Deleted ??= reply;
                    for (int r = 0; r < message.Recipients.Length; r++)
                    {
                        // A recipient whose attempt is under way is settled when it comes back: delivered meanwhile,
                        // it is not reported as failed; otherwise it is bounced with the reply above (Finalize).
                        if (!message.Recipients[r].IsFinal && tracked.Progress(r).Outstanding == 0)
                            Bounce(message, r, reply, "none", "none", now);
                    }
                    // The notice goes out and the message is removed when what is under way comes back.
                    Settle(tracked);
                }
                done.Add(message.Id.ToString());
                continue;
            }
            if (!BeginControl(tracked))
                continue;
            try
            {
                await _queue.RecordRemovedAsync(message.Id, "deleted by " + who).ConfigureAwait(false);
                lock (_lock)
                {
                    if (message.Removed)
                        continue;
                    message.Removed = true;
                    _messages.Remove(message.Id.Value);
                    _live.Remove(message);
                    _queue.ReleaseResident(message);
                    _log.Line(LogLevel.Information, $"{message.Id}: removed (deleted by {who})");
                    Reclaim(force: false);
                }
            }
            finally
            {
                EndControl(tracked);
            }
            done.Add(message.Id.ToString());
        }
        return done;
    }

    private Tracked? Lookup(string id) =>
        QueueId.TryParse(id, out QueueId parsed) && _messages.TryGetValue(parsed.Value, out Tracked? tracked) ? tracked : null;

    /// <summary>The named messages (every message when none is named); unknown ids go to <paramref name="unknown"/>
    /// (under the lock).</summary>
    private List<Tracked> Select(IReadOnlyList<string> ids, List<string> unknown)
    {
        if (ids.Count == 0)
            return [.. _messages.Values];
        var chosen = new List<Tracked>(ids.Count);
        foreach (string id in ids)
        {
            if (Lookup(id) is { } tracked)
            {
                if (!chosen.Contains(tracked))
                    chosen.Add(tracked);
            }
            else
            {
                unknown.Add(id);
            }
        }
        return chosen;
    }

    private List<Tracked> Snapshot(IReadOnlyList<string> ids, List<string> unknown)
    {
        lock (_lock)
            return ids.Count == 0 ? [] : Select(ids, unknown);
    }

    private QueuedMessageView View(Tracked tracked, bool history)
    {
        QueuedMessage message = tracked.Message;
        var recipients = new RecipientView[message.Recipients.Length];
        for (int r = 0; r < recipients.Length; r++)
        {
            QueuedRecipient recipient = message.Recipients[r];
            recipients[r] = new RecipientView(r, recipient.Address, recipient.OriginalRecipient, NotifyText(recipient.Notify),
                recipient.Status, recipient.Attempts, recipient.Status == RecipientStatus.Deferred ? recipient.NextAttempt : null,
                recipient.LastReply, history ? [.. recipient.History] : []);
        }
        return new QueuedMessageView(message.Id.ToString(), message.Arrival, message.Size, message.Sender,
            message.Origin.ToString().ToLowerInvariant(), NullIfEmpty(message.ClientAddress), NullIfEmpty(message.ClientHelo),
            message.AuthenticatedName, message.EnvelopeId, message.Return == DsnReturn.Full, message.Held, tracked.InFlight > 0,
            recipients);
    }

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;

    private static string? NotifyText(DsnNotify notify)
    {
        if (notify == DsnNotify.None)
            return null;
        if ((notify & DsnNotify.Never) != 0)
            return "NEVER";
        var parts = new List<string>(3);
        if ((notify & DsnNotify.Success) != 0)
            parts.Add("SUCCESS");
        if ((notify & DsnNotify.Failure) != 0)
            parts.Add("FAILURE");
        if ((notify & DsnNotify.Delay) != 0)
            parts.Add("DELAY");
        return string.Join(',', parts);
    }
}
