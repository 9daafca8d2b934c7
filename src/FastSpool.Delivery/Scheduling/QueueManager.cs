using System.Diagnostics.Metrics;
using System.Threading.Channels;
using FastSpool.Configuration;
using FastSpool.Delivery.Routing;
using FastSpool.Delivery.Transport;
using FastSpool.Logging;
using FastSpool.Protocols.Smtp;
using FastSpool.Queue;
using Microsoft.Extensions.Logging;

namespace FastSpool.Delivery.Scheduling;

/// <summary>Schedules deliveries (Postfix's qmgr, sendmail's queue runner). Committed messages come in through
/// <see cref="Accept"/>; an intake worker routes each recipient that is due (local mailboxes, aliases, the relay)
/// into one work list per destination, so that a busy mailbox gets many messages per lock and fsync; delivery
/// workers hand batches to the transports and record each recipient's outcome in the log: sent, deferred until T
/// with the reply, or bounced. Permanent failures become one notice per message (RFC 3464); finished messages are
/// removed and their log space reclaimed. Time comes from the <see cref="TimeProvider"/> only.</summary>
public sealed partial class QueueManager : IQueueSink, Control.IQueueControl, IAsyncDisposable
{
    private const long ReclaimStep = 1 << 20;
    private const long MaxBatchBytes = 32 << 20;

    private readonly MailQueue _queue;
    private readonly IRecipientRouter _router;
    private readonly IReadOnlyList<ITransport> _transports;
    private readonly DeliveryOptions _delivery;
    private readonly QueueOptions _queueOptions;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly object _lock = new();
    private readonly Dictionary<ulong, Tracked> _messages = [];
    private readonly SortedSet<QueuedMessage> _live = new(ByFirstAddress.Instance);
    // Keyed by transport name and destination as a pair: a key string made per routed recipient would be garbage.
    private readonly Dictionary<(string Transport, string Destination), DestinationWork> _destinations = new();
    private readonly PriorityQueue<Tracked, DateTimeOffset> _waiting = new();
    private readonly Channel<Tracked> _intake = Channel.CreateUnbounded<Tracked>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<DestinationWork> _ready = Channel.CreateUnbounded<DestinationWork>();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private readonly ITimer _retryTimer;
    private DateTimeOffset _retryTimerDue = DateTimeOffset.MaxValue;
    private long _reclaimedUntil;
    private bool _started;
    private bool _copying;
    private DateTimeOffset _copyNotBefore;

    public QueueManager(MailQueue queue, IRecipientRouter router, IReadOnlyList<ITransport> transports, DeliveryOptions delivery,
        QueueOptions queueOptions, NoticeOptions notices, ILoggerFactory loggers, TimeProvider time, IMeterFactory? meters = null)
    {
        _queue = queue;
        _router = router;
        _transports = transports;
        _delivery = delivery;
        _queueOptions = queueOptions;
        _noticeOptions = notices;
        _log = loggers.CreateLogger("qmgr");
        _time = time;
        _retryTimer = time.CreateTimer(static state => ((QueueManager)state!).RetryDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _metrics = CreateMetrics(meters);
        _deliveries = CreateDeliveries();
    }

    /// <summary>Messages in the queue (not yet finished).</summary>
    public int ActiveMessages
    {
        get
        {
            lock (_lock)
                return _messages.Count;
        }
    }

    /// <summary>True when no message is in the queue; for tests and the statistics line.</summary>
    public bool IsIdle => ActiveMessages == 0;

    /// <summary>Takes over what recovery found, then starts the workers.</summary>
    public void Start(RecoveredQueue recovered)
    {
        foreach (ITransport transport in _transports)
            transport.Recover(recovered.UnfinishedJournals.FindAll(j => j.Transport == transport.Name));
        // Every recovered message is registered before anything may be reclaimed: a message finished during this
        // loop must not let truncation pass messages that are not registered yet.
        var tracked = new List<Tracked>(recovered.Messages.Count);
        lock (_lock)
        {
            foreach (QueuedMessage message in recovered.Messages)
                tracked.Add(Register(message));
        }
        foreach (Tracked t in tracked)
            Post(t);
        lock (_lock)
        {
            _started = true;
            Reclaim(force: true);
        }
        if (recovered.Messages.Count > 0 || recovered.UnfinishedJournals.Count > 0)
        {
            _log.LogInformation("recovered {Messages} messages, {Journals} unfinished deliveries to check ({Records} records scanned, {Damaged} damaged, {Unknown} of unknown kinds)",
                recovered.Messages.Count, recovered.UnfinishedJournals.Count, recovered.RecordsScanned, recovered.DamagedRecords, recovered.UnknownRecords);
        }
        _workers.Add(Task.Run(IntakeLoopAsync));
        for (int i = 0; i < _delivery.Concurrency; i++)
            _workers.Add(Task.Run(DeliveryLoopAsync));
        _workers.Add(Task.Run(NoticeLoopAsync));
        _workers.Add(Task.Run(HealthLoopAsync));
    }

    /// <summary>A door committed a message (called on the door's thread): register it, so that its log space is
    /// kept, and leave the routing to the intake worker.</summary>
    public void Accept(QueuedMessage message)
    {
        Tracked tracked;
        lock (_lock)
            tracked = Register(message);
        _intake.Writer.TryWrite(tracked);
    }

    /// <summary>A message still being received moved its chunks forward: the log behind them may be reclaimed.</summary>
    public void ReceptionMoved()
    {
        lock (_lock)
            Reclaim(force: true);
    }

    private Tracked Register(QueuedMessage message)
    {
        var tracked = new Tracked(message);
        _messages[message.Id.Value] = tracked;
        _live.Add(message);
        return tracked;
    }

    /// <summary>Asks the intake worker to look at a message: route its due recipients, or settle it.</summary>
    private void Post(Tracked tracked) => _intake.Writer.TryWrite(tracked);

    // The loops read their channels without a token (a cancellable wait allocates an operation per wait); they end
    // when DisposeAsync completes the channels.
    private async Task IntakeLoopAsync()
    {
        var routes = new List<Route>();
        try
        {
            await foreach (Tracked tracked in _intake.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    RouteDue(tracked, routes);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _log.LogError(e, "{Id}: routing failed unexpectedly; retrying later", tracked.Message.Id);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Routes every recipient of the message that is due now into its destinations' work lists.</summary>
    private void RouteDue(Tracked tracked, List<Route> routes)
    {
        QueuedMessage message = tracked.Message;
        DateTimeOffset now = _time.GetUtcNow();
        for (int r = 0; r < message.Recipients.Length; r++)
        {
            lock (_lock)
            {
                if (!IsDue(tracked, r, now))
                    continue;
            }
            routes.Clear();
            // Routing reads the users, aliases and accounts files (cached): outside the lock.
            DeliveryReply? failure = _router.Route(message, r, routes);
            lock (_lock)
            {
                if (!IsDue(tracked, r, now))
                    continue;
                bool requeued = tracked.Progress(r).Requeued;
                tracked.Progress(r).Requeued = false;
                if (failure is not null)
                {
                    tracked.Progress(r).Tried = true;
                    tracked.Progress(r).Outcome = failure;
                    tracked.Progress(r).Relay = "none";
                    Finalize(tracked, r, now);
                    continue;
                }
                int added = 0;
                for (int k = 0; k < routes.Count; k++)
                {
                    Route route = routes[k];
                    // One copy per part: a mailbox reached through two aliases, or through two recipients of the
                    // message, gets it once; parts done before a deferral or a crash are not repeated.
                    if (SeenBefore(routes, k) || PartDoneByAny(message, route.Part) || !tracked.Claim(route.Part))
                        continue;
                    DestinationWork work = Work(route);
                    if (requeued)
                    {
                        // An admin's requeue resets the backoff; here it is the destination's that counts.
                        work.Failures = 0;
                        work.RetryAt = default;
                        work.LastFailure = null;
                    }
                    if (work.RetryAt > now && work.LastFailure is { } suspended)
                    {
                        // The destination failed a moment ago: no new attempt before its retry time.
                        tracked.Unclaim(route.Part);
                        tracked.Progress(r).Outcome ??= suspended;
                        tracked.Progress(r).Relay = route.Transport.Name;
                        tracked.Progress(r).Remote = route.Transport.IsRemote;
                        tracked.Progress(r).NotBefore = work.RetryAt;
                        continue;
                    }
                    work.Pending.Enqueue(new DeliveryItem(message, r, route.Part));
                    tracked.Progress(r).Outstanding++;
                    added++;
                    Schedule(work);
                }
                if (added == 0)
                    Finalize(tracked, r, now); // every part was delivered before, or its destination is suspended
            }
        }
        lock (_lock)
        {
            WaitForNextAttempt(tracked, now);
            Settle(tracked);
        }
    }

    /// <summary>A message with recipients deferred into the future (recovered, or back from the intake early) waits
    /// for the earliest of them (under the lock).</summary>
    private void WaitForNextAttempt(Tracked tracked, DateTimeOffset now)
    {
        QueuedMessage message = tracked.Message;
        if (message.Removed || message.Held)
            return;
        DateTimeOffset earliest = DateTimeOffset.MaxValue;
        for (int r = 0; r < message.Recipients.Length; r++)
        {
            QueuedRecipient recipient = message.Recipients[r];
            if (recipient.Status == RecipientStatus.Deferred && tracked.Progress(r).Outstanding == 0 && recipient.NextAttempt is { } next && next > now && next < earliest)
                earliest = next;
        }
        if (earliest != DateTimeOffset.MaxValue)
            Wait(tracked, earliest);
    }

    private static bool SeenBefore(List<Route> routes, int index)
    {
        for (int j = 0; j < index; j++)
        {
            if (routes[j].Part == routes[index].Part)
                return true;
        }
        return false;
    }

    private static bool PartDoneByAny(QueuedMessage message, string part)
    {
        foreach (QueuedRecipient recipient in message.Recipients)
        {
            if (recipient.IsPartDone(part))
                return true;
        }
        return false;
    }

    /// <summary>Whether recipient <paramref name="r"/> should be routed now (under the lock).</summary>
    private static bool IsDue(Tracked tracked, int r, DateTimeOffset now)
    {
        QueuedMessage message = tracked.Message;
        QueuedRecipient recipient = message.Recipients[r];
        return !message.Removed && !message.Held && !tracked.Moving && tracked.Deleted is null && !recipient.IsFinal && tracked.Progress(r).Outstanding == 0
            && (recipient.Status == RecipientStatus.Pending || (recipient.NextAttempt ?? now) <= now);
    }

    private DestinationWork Work(Route route)
    {
        (string, string) key = (route.Transport.Name, route.Destination);
        if (!_destinations.TryGetValue(key, out DestinationWork? work))
        {
            work = new DestinationWork(route.Transport, route.Destination);
            _destinations.Add(key, work);
        }
        return work;
    }

    /// <summary>Queues a destination for a delivery worker unless one has it already.</summary>
    private void Schedule(DestinationWork work)
    {
        if (work.Scheduled)
            return;
        work.Scheduled = true;
        _ready.Writer.TryWrite(work);
    }

    private async Task DeliveryLoopAsync()
    {
        var batch = new List<DeliveryItem>();
        var results = new DeliveryResult[_delivery.MaxBatch]; // each worker's own, used again for every batch
        try
        {
            await foreach (DestinationWork work in _ready.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    await RunAsync(work, batch, results).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _log.LogError(e, "delivery to {Transport} {Destination} failed unexpectedly; retrying later", work.Transport.Name, work.Destination);
                    var failed = new DeliveryResult[batch.Count];
                    Array.Fill(failed, DeliveryResult.Temporary("4.3.0", "internal error: " + e.Message));
                    lock (_lock)
                        Complete(work, batch, failed);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    // Pooled: one state machine per batch delivered otherwise.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunAsync(DestinationWork work, List<DeliveryItem> batch, DeliveryResult[] results)
    {
        batch.Clear();
        if (_delivery.BatchDelay > TimeSpan.Zero && work.Pending.Count < _delivery.MaxBatch)
        {
            // Let a busy destination gather a few more messages: one lock, one journal commit and one fsync for all.
            await Task.Delay(_delivery.BatchDelay, _time, _stop.Token).ConfigureAwait(false);
        }
        lock (_lock)
        {
            long bytes = 0;
            while (batch.Count < _delivery.MaxBatch && work.Pending.TryPeek(out DeliveryItem next)
                && (batch.Count == 0 || bytes + next.Message.Size <= MaxBatchBytes))
            {
                work.Pending.Dequeue();
                if (Withdrawn(next))
                    continue;
                bytes += next.Message.Size;
                batch.Add(next);
                Track(next).InFlight++;
            }
            if (batch.Count == 0)
            {
                work.Scheduled = false;
                if (work.Pending.Count > 0)
                    Schedule(work);
                return;
            }
        }
        Array.Clear(results, 0, batch.Count);
        await work.Transport.DeliverAsync(work.Destination, batch, results, _stop.Token).ConfigureAwait(false);
        lock (_lock)
            Complete(work, batch, results);
    }

    /// <summary>An item whose message was held or deleted since it was queued is dropped (under the lock); a held
    /// recipient keeps its state and is routed again on release.</summary>
    private bool Withdrawn(DeliveryItem item)
    {
        QueuedMessage message = item.Message;
        Tracked? tracked = message.Removed ? null : _messages.GetValueOrDefault(message.Id.Value);
        if (tracked is { Deleted: null } && !message.Held && !message.Recipients[item.Recipient].IsFinal)
            return false;
        if (tracked is not null)
        {
            tracked.Unclaim(item.Part);
            tracked.Progress(item.Recipient).Withdrawn = true;
            if (--tracked.Progress(item.Recipient).Outstanding == 0)
                Finalize(tracked, item.Recipient, _time.GetUtcNow());
            Settle(tracked);
        }
        return true;
    }

    private Tracked Track(DeliveryItem item) => _messages[item.Message.Id.Value];

    /// <summary>Applies a batch's results (under the lock).</summary>
    private void Complete(DestinationWork work, List<DeliveryItem> batch, DeliveryResult[] results)
    {
        DateTimeOffset now = _time.GetUtcNow();
        bool destinationFailed = batch.Count > 0;
        for (int i = 0; i < batch.Count; i++)
            destinationFailed &= results[i].Kind == DeliveryResultKind.Temporary;
        for (int i = 0; i < batch.Count; i++)
        {
            DeliveryItem item = batch[i];
            QueuedMessage message = item.Message;
            if (message.Removed || !_messages.TryGetValue(message.Id.Value, out Tracked? tracked))
                continue;
            tracked.InFlight--;
            tracked.Unclaim(item.Part);
            tracked.Progress(item.Recipient).Tried = true;
            QueuedRecipient recipient = item.Target;
            DeliveryResult result = results[i];
            if (result.Kind == DeliveryResultKind.Sent)
            {
                work.Failures = 0;
                work.LastFailure = null;
            }
            else if (result.Kind == DeliveryResultKind.Temporary)
                tracked.Progress(item.Recipient).NotBefore = DestinationRetry(work, recipient.Attempts + 1, now);
            if (!recipient.IsFinal)
            {
                switch (result.Kind)
                {
                    case DeliveryResultKind.Sent:
                        tracked.Progress(item.Recipient).Delivered = result.Reply;
                        recipient.MarkPartDone(item.Part);
                        if (result.NotificationsPassedOn)
                            recipient.Notified |= DsnNotify.Success;
                        if (!result.Recorded)
                            _ = RecordAsync(_queue.RecordPartDoneAsync(message.Id, item.Recipient, item.Part), message.Id);
                        CountDelivery(Sent, work.Transport.Name);
                        _log.Line(LogLevel.Information,
                            $"{message.Id}: to=<{recipient.Address}>, relay={result.Reply.RemoteHost ?? work.Transport.Name}, delay={Delay(message, now):0.##}, status=sent ({result.Reply.DescribeSent()})");
                        break;
                    case DeliveryResultKind.Permanent:
                        tracked.Progress(item.Recipient).Outcome = result.Reply;
                        tracked.Progress(item.Recipient).Relay = work.Transport.Name;
                        tracked.Progress(item.Recipient).Remote = work.Transport.IsRemote;
                        break;
                    default:
                        if (tracked.Progress(item.Recipient).Outcome is not { Code: >= 500 })
                        {
                            tracked.Progress(item.Recipient).Outcome = result.Reply;
                            tracked.Progress(item.Recipient).Relay = work.Transport.Name;
                            tracked.Progress(item.Recipient).Remote = work.Transport.IsRemote;
                        }
                        break;
                }
            }
            if (--tracked.Progress(item.Recipient).Outstanding == 0)
                Finalize(tracked, item.Recipient, now);
            Settle(tracked);
        }
        if (destinationFailed)
        {
            // Every item failed for a reason of the destination's (a locked mailbox, a smarthost that is down): what
            // is queued behind them waits too, with the same retry time, instead of failing one batch at a time.
            work.LastFailure = results[0].Reply;
            SuspendQueued(work, now);
        }
        work.Scheduled = false;
        if (work.Pending.Count > 0)
            Schedule(work);
    }

    /// <summary>Defers everything queued for a destination that just failed until its retry time (under the lock).</summary>
    private void SuspendQueued(DestinationWork work, DateTimeOffset now)
    {
        DateTimeOffset retry = DestinationRetry(work, 0, now);
        while (work.Pending.TryDequeue(out DeliveryItem item))
        {
            QueuedMessage message = item.Message;
            if (message.Removed || !_messages.TryGetValue(message.Id.Value, out Tracked? tracked))
                continue;
            tracked.Unclaim(item.Part);
            if (!item.Target.IsFinal && tracked.Progress(item.Recipient).Outcome is not { Code: >= 500 })
            {
                tracked.Progress(item.Recipient).Outcome = work.LastFailure;
                tracked.Progress(item.Recipient).Relay = work.Transport.Name;
                tracked.Progress(item.Recipient).Remote = work.Transport.IsRemote;
            }
            tracked.Progress(item.Recipient).NotBefore = retry;
            if (--tracked.Progress(item.Recipient).Outstanding == 0)
                Finalize(tracked, item.Recipient, now);
            Settle(tracked);
        }
    }

    /// <summary>Every part of a recipient's attempt is back: it is sent, bounced or deferred (under the lock).</summary>
    private void Finalize(Tracked tracked, int r, DateTimeOffset now)
    {
        QueuedMessage message = tracked.Message;
        QueuedRecipient recipient = message.Recipients[r];
        DeliveryReply? outcome = tracked.Progress(r).Outcome;
        string transport = tracked.Progress(r).Relay ?? "none";
        string relay = outcome?.RemoteHost ?? (tracked.Progress(r).Remote ? "none" : transport);
        bool withdrawn = tracked.Progress(r).Withdrawn;
        bool tried = tracked.Progress(r).Tried;
        tracked.Progress(r).Outcome = null;
        tracked.Progress(r).Withdrawn = false;
        tracked.Progress(r).Tried = false;
        if (recipient.IsFinal)
            return;
        if (tracked.Deleted is { } deleted && (outcome is not null || withdrawn))
        {
            // Deleted with a notice while this attempt was under way, and not delivered by it.
            Bounce(message, r, outcome is { Code: >= 500 } ? outcome : deleted, relay, transport, now);
            return;
        }
        if (outcome is null)
        {
            if (withdrawn)
                return; // held or deleted before its turn: no attempt was made
            SetState(message, r, RecipientStatus.Sent, tracked.Progress(r).Delivered ?? new DeliveryReply(250, "2.0.0", "delivered"), now, next: null);
            tracked.Progress(r).Delivered = null;
            return;
        }
        if (tried)
            recipient.Attempts++;
        if (outcome.Code >= 500)
        {
            Bounce(message, r, outcome, relay, transport, now);
            return;
        }
        if (now - message.Arrival >= _queueOptions.MaxLifetime)
        {
            // Postfix's maximal_queue_lifetime: the last temporary reason goes back to the sender.
            SetState(message, r, RecipientStatus.Bounced, outcome, now, next: null);
            CountDelivery(Expired, transport);
            _log.Line(LogLevel.Information,
                $"{message.Id}: to=<{recipient.Address}>, relay={relay}, delay={Delay(message, now):0.##}, status=expired, returned to sender ({outcome.Describe()})");
            return;
        }
        // Backoff per destination: everything deferred at a destination until its retry time is tried again
        // together, in arrival order (a mailbox keeps its order across a lock held for a while).
        DateTimeOffset notBefore = tracked.Progress(r).NotBefore;
        DateTimeOffset next = notBefore > now ? notBefore : now + Backoff(recipient.Attempts);
        tracked.Progress(r).NotBefore = default;
        TimeSpan delay = next - now;
        SetState(message, r, RecipientStatus.Deferred, outcome, now, next);
        CountDelivery(Deferred, transport);
        _log.Line(LogLevel.Information,
            $"{message.Id}: to=<{recipient.Address}>, relay={relay}, delay={Delay(message, now):0.##}, status=deferred ({outcome.Describe()}); retry in {(long)delay.TotalSeconds}s");
        Wait(tracked, next);
    }

    /// <param name="relay">Where the reply came from, for the log; <paramref name="transport"/> is the transport that
    /// tried (or <c>none</c>), for the metrics.</param>
    private void Bounce(QueuedMessage message, int r, DeliveryReply reply, string relay, string transport, DateTimeOffset now)
    {
        SetState(message, r, RecipientStatus.Bounced, reply, now, next: null);
        CountDelivery(Bounced, transport);
        _log.Line(LogLevel.Information,
            $"{message.Id}: to=<{message.Recipients[r].Address}>, relay={relay}, delay={Delay(message, now):0.##}, status=bounced ({reply.Describe()})");
    }

    /// <summary>When a destination that just failed is tried again: its current retry time while that is ahead,
    /// else now plus its backoff, which grows with its failures in a row, and is never shorter than that of the
    /// recipient that failed at this, its <paramref name="attempts"/>th attempt (a destination's count starts
    /// anew at a restart; the recipient's attempts are kept in the log).</summary>
    private DateTimeOffset DestinationRetry(DestinationWork work, int attempts, DateTimeOffset now)
    {
        if (work.RetryAt <= now)
        {
            work.Failures = Math.Max(work.Failures + 1, attempts);
            work.RetryAt = now + Backoff(work.Failures);
        }
        return work.RetryAt;
    }

    /// <summary>RetryDelay doubled after each failed attempt, up to MaxRetryDelay.</summary>
    public TimeSpan Backoff(int attempts)
    {
        double factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 16));
        return TimeSpan.FromTicks((long)Math.Min(_delivery.RetryDelay.Ticks * factor, _delivery.MaxRetryDelay.Ticks));
    }

    private void SetState(QueuedMessage message, int r, RecipientStatus status, DeliveryReply reply, DateTimeOffset now, DateTimeOffset? next)
    {
        QueuedRecipient recipient = message.Recipients[r];
        recipient.Status = status;
        recipient.LastReply = reply;
        recipient.NextAttempt = next;
        if (status == RecipientStatus.Sent && message.Recipients.Length == 1)
        {
            // The hot path: a one-recipient message is removed right after, so neither a state record nor a history
            // entry is worth writing. Should the server stop in between, the parts-done record (and the transport's
            // journal) bring the recipient back as sent when it is routed again; nothing is delivered twice.
            return;
        }
        recipient.AddHistory(new RecipientEvent(now, status, reply));
        _ = RecordAsync(_queue.RecordRecipientStateAsync(message.Id, r, recipient, now), message.Id);
    }

    /// <summary>Keeps a deferred message for its next attempt time; one timer serves the earliest.</summary>
    private void Wait(Tracked tracked, DateTimeOffset next)
    {
        if (tracked.WaitingUntil <= next)
            return; // already waiting for an earlier time
        tracked.WaitingUntil = next;
        _waiting.Enqueue(tracked, next);
        if (next < _retryTimerDue)
        {
            _retryTimerDue = next;
            TimeSpan due = next - _time.GetUtcNow();
            _retryTimer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The retry timer: messages whose time has come go back to the intake.</summary>
    private void RetryDue()
    {
        var due = new List<Tracked>();
        lock (_lock)
        {
            DateTimeOffset now = _time.GetUtcNow();
            while (_waiting.TryPeek(out Tracked? tracked, out DateTimeOffset at) && at <= now)
            {
                _waiting.Dequeue();
                if (tracked.WaitingUntil != at)
                    continue; // superseded by an earlier wait
                tracked.WaitingUntil = DateTimeOffset.MaxValue;
                if (!tracked.Message.Removed)
                    due.Add(tracked);
            }
            _retryTimerDue = DateTimeOffset.MaxValue;
            if (_waiting.TryPeek(out _, out DateTimeOffset nextDue))
            {
                _retryTimerDue = nextDue;
                TimeSpan wait = nextDue - now;
                _retryTimer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            }
        }
        // Oldest first, so that destinations get their deferred mail back in arrival order.
        due.Sort(static (a, b) => a.Message.Id.Value.CompareTo(b.Message.Id.Value));
        foreach (Tracked tracked in due)
            Post(tracked);
    }

    /// <summary>After a change: sends the notices the message needs, or removes it once every recipient is final
    /// and notified (under the lock).</summary>
    private void Settle(Tracked tracked)
    {
        QueuedMessage message = tracked.Message;
        if (message.Removed || tracked.Busy || tracked.NoticeQueued || tracked.Moving)
            return;
        if (NeedsNotice(tracked))
        {
            tracked.NoticeQueued = true;
            _noticeQueue.Writer.TryWrite(tracked);
            return;
        }
        if (message.AllFinal)
            Finish(tracked, reason: null);
        else
            WaitForDelayWarning(tracked);
    }

    /// <summary>A deferred message that may owe its sender a "delayed" notice comes back when the warning time is
    /// reached, not only at its next attempt (under the lock).</summary>
    private void WaitForDelayWarning(Tracked tracked)
    {
        QueuedMessage message = tracked.Message;
        if (_queueOptions.DelayWarning <= TimeSpan.Zero || message.DelayWarned || message.Held || message.Sender.Length == 0)
            return;
        DateTimeOffset warnAt = message.Arrival + _queueOptions.DelayWarning;
        if (warnAt > _time.GetUtcNow() && Array.Exists(message.Recipients, r => r.Status == RecipientStatus.Deferred && r.Wants(DsnNotify.Delay)))
            Wait(tracked, warnAt);
    }

    private void Finish(Tracked tracked, string? reason)
    {
        QueuedMessage message = tracked.Message;
        message.Removed = true;
        _messages.Remove(message.Id.Value);
        _live.Remove(message);
        _queue.ReleaseResident(message);
        _ = RecordAsync(_queue.RecordRemovedAsync(message.Id, reason ?? "finished", durable: false), message.Id);
        if (reason is null)
            _log.Line(LogLevel.Information, $"{message.Id}: removed");
        else
            _log.Line(LogLevel.Information, $"{message.Id}: removed ({reason})");
        Reclaim(force: false);
    }

    /// <summary>Truncates the log below the oldest unfinished message, in steps (space comes back in segments).</summary>
    private void Reclaim(bool force)
    {
        if (!_started)
            return;
        long oldest = _live.Count > 0 ? _live.Min!.FirstAddress : long.MaxValue;
        if (force || _live.Count == 0 || oldest - _reclaimedUntil >= ReclaimStep)
        {
            _queue.ReclaimSpace(oldest);
            _reclaimedUntil = _queue.Log.BeginAddress;
        }
        if (_live.Count > 0 && !_copying && _queue.Log.TailAddress - oldest > CopyDistance && _time.GetUtcNow() >= _copyNotBefore
            && _messages.TryGetValue(_live.Min!.Id.Value, out Tracked? pinning) && !pinning.Busy && !pinning.NoticeQueued && pinning.PendingControl == 0)
        {
            _copying = true;
            pinning.Moving = true;
            _ = CopyForwardAsync(pinning);
        }
    }

    /// <summary>How far the oldest message may fall behind the log's tail before it is copied forward.</summary>
    private long CopyDistance => 2L << _queueOptions.SegmentSizeBits;

    /// <summary>Moves a message that waits (deferred, held) to the log's tail, so that truncation can go on behind it:
    /// a message deferred for days must not keep days of log on disk (DESIGN: "copied forward").</summary>
    private async Task CopyForwardAsync(Tracked tracked)
    {
        QueuedMessage message = tracked.Message;
        try
        {
            MessageCopy copy = await _queue.WriteCopyChunksAsync(message, _stop.Token).ConfigureAwait(false);
            long address;
            lock (_lock)
            {
                if (message.Removed)
                    return;
                if (tracked.PendingControl > 0)
                {
                    // An admin's change is on its way to the log: the copy would not carry it (see BeginControl).
                    _copyNotBefore = _time.GetUtcNow() + CopyRetryDelay;
                    return;
                }
                if (!_queue.TryAppendCopyEnvelope(message, copy, out address))
                {
                    _copyNotBefore = _time.GetUtcNow() + CopyRetryDelay;
                    return;
                }
            }
            await _queue.Log.WaitCommittedAsync(address).ConfigureAwait(false);
            lock (_lock)
            {
                if (message.Removed)
                    return;
                _live.Remove(message);
                message.ChunkAddresses = copy.Chunks;
                message.EnvelopeAddress = address;
                message.FirstAddress = copy.Chunks.Length > 0 ? Math.Min(copy.Chunks.Min(), address) : address;
                _live.Add(message);
                _log.LogInformation("{Id}: moved forward in the queue log ({Size} bytes) so that older log segments can be reclaimed", message.Id, message.Size);
            }
        }
        catch (Exception e) when (e is QueueUnavailableException or IOException or InvalidDataException)
        {
            _log.LogWarning("{Id}: could not move the message forward in the queue log: {Reason}", message.Id, e.Message);
            lock (_lock)
                _copyNotBefore = _time.GetUtcNow() + CopyRetryDelay;
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_lock)
            {
                tracked.Moving = false;
                _copying = false;
                Reclaim(force: true);
            }
            // Recipients that came due during the move were passed over: look at the message again.
            Post(tracked);
        }
    }

    private static readonly TimeSpan CopyRetryDelay = TimeSpan.FromSeconds(30);

    /// <summary>After a commit failure, tries to reopen the queue every <c>Queue:RecoveryInterval</c>; once it is
    /// back, new mail is accepted again and deferred deliveries are retried.</summary>
    private async Task HealthLoopAsync()
    {
        bool reported = false;
        try
        {
            while (true)
            {
                await Task.Delay(_queueOptions.RecoveryInterval, _time, _stop.Token).ConfigureAwait(false);
                if (_queue.IsHealthy)
                    continue;
                if (!reported)
                {
                    _log.LogError("queue unavailable ({Reason}): new mail is answered 451 4.3.0 until it can be reopened", _queue.Log.Failure?.Message);
                    reported = true;
                }
                if (await _queue.TryRecoverAsync(_stop.Token).ConfigureAwait(false))
                {
                    _log.LogWarning("queue reopened: accepting mail again");
                    reported = false;
                    RetryAll();
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Every deferred recipient is tried now (sendmail -q).</summary>
    public void RetryAll()
    {
        List<Tracked> all;
        lock (_lock)
        {
            DateTimeOffset now = _time.GetUtcNow();
            all = [.. _messages.Values];
            LiftSuspensions();
            foreach (Tracked tracked in all)
                MakeDueNow(tracked, now);
        }
        foreach (Tracked tracked in all)
            Post(tracked);
    }

    /// <summary>A flush tries suspended destinations again too (their failure count, and so the backoff, stays).</summary>
    private void LiftSuspensions()
    {
        foreach (DestinationWork work in _destinations.Values)
        {
            work.RetryAt = default;
            work.LastFailure = null;
        }
    }

    private static void MakeDueNow(Tracked tracked, DateTimeOffset now)
    {
        foreach (QueuedRecipient recipient in tracked.Message.Recipients)
        {
            if (recipient.Status == RecipientStatus.Deferred)
                recipient.NextAttempt = now;
        }
    }

    private async Task RecordAsync(ValueTask write, QueueId id)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (QueueUnavailableException e)
        {
            _log.LogError("{Id}: cannot record the delivery state in the queue: {Reason}", id, e.Message);
        }
    }

    /// <summary>Seconds from arrival until now, logged as <c>delay=0.12</c>.</summary>
    private static double Delay(QueuedMessage message, DateTimeOffset now) => Math.Max(0, (now - message.Arrival).TotalSeconds);

    public async ValueTask DisposeAsync()
    {
        _intake.Writer.TryComplete();
        _ready.Writer.TryComplete();
        _noticeQueue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_workers).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _retryTimer.DisposeAsync().ConfigureAwait(false);
        _metrics.Dispose();
        _stop.Dispose();
    }

    private sealed class ByFirstAddress : IComparer<QueuedMessage>
    {
        public static ByFirstAddress Instance { get; } = new();

        public int Compare(QueuedMessage? x, QueuedMessage? y)
        {
            int c = x!.FirstAddress.CompareTo(y!.FirstAddress);
            return c != 0 ? c : x.Id.Value.CompareTo(y.Id.Value);
        }
    }

    private sealed class DestinationWork(ITransport transport, string destination)
    {
        public ITransport Transport { get; } = transport;
        public string Destination { get; } = destination;
        public Queue<DeliveryItem> Pending { get; } = new();
        public bool Scheduled { get; set; }

        /// <summary>Temporary failures in a row, for the backoff.</summary>
        public int Failures { get; set; }

        public DateTimeOffset RetryAt { get; set; }

        /// <summary>The reply of the last batch that failed as a whole; new mail for the destination is deferred
        /// with it until <see cref="RetryAt"/>.</summary>
        public DeliveryReply? LastFailure { get; set; }
    }
}
