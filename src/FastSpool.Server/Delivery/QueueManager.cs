using System.Buffers;
using System.Globalization;
using System.Threading.Channels;
using FastSpool.Configuration;
using FastSpool.Delivery.Mbox;
using FastSpool.Queue;
using FastSpool.Users;
using FastSpool.Server.Logging;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Delivery;

/// <summary>Schedules deliveries (sendmail's queue runner, Postfix's qmgr): expands each recipient into local
/// mailboxes, keeps one work list per mailbox so that a busy mailbox gets many messages per lock and fsync,
/// retries temporary failures with backoff, finishes messages and reclaims queue space.</summary>
internal sealed class QueueManager : IMessageSink, IAsyncDisposable
{
    private const long ReclaimStep = 1 << 20;
    private const long MaxBatchBytes = 32 << 20;

    private readonly MailQueue _queue;
    private readonly LocalDeliveryAgent _agent;
    private readonly LocalRecipients _recipients;
    private readonly DeliveryOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly object _lock = new();
    private readonly Dictionary<string, MailboxWork> _mailboxes = new(StringComparer.Ordinal);
    private readonly SortedSet<QueuedMessage> _live = new(ByFirstAddress.Instance);
    private readonly Dictionary<QueuedMessage, int> _pending = new(ReferenceEqualityComparer.Instance);
    private readonly Channel<MailboxWork> _ready = Channel.CreateUnbounded<MailboxWork>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _recoveryInterval;
    private readonly List<Task> _workers = [];
    private long _reclaimedUntil;
    private bool _started;

    public QueueManager(MailQueue queue, LocalDeliveryAgent agent, LocalRecipients recipients, DeliveryOptions options, ILoggerFactory loggers, TimeProvider time, TimeSpan recoveryInterval)
    {
        _recoveryInterval = recoveryInterval;
        _queue = queue;
        _agent = agent;
        _recipients = recipients;
        _options = options;
        _log = loggers.CreateLogger("qmgr");
        _time = time;
    }

    /// <summary>Messages that still have deliveries to make.</summary>
    public int ActiveMessages
    {
        get
        {
            lock (_lock)
                return _pending.Count;
        }
    }

    /// <summary>Takes over what recovery found, then starts the delivery workers.</summary>
    public void Start(RecoveredQueue recovered)
    {
        lock (_lock)
        {
            foreach (DeliveryIntent intent in recovered.UnfinishedIntents)
            {
                foreach (string mailbox in intent.Entries.Select(e => e.Mailbox).Distinct(StringComparer.Ordinal))
                    Work(mailbox).Intents.Add(intent);
            }
        }
        // Every recovered message is registered before anything may be reclaimed: a message finished during this
        // loop must not let truncation pass messages that are not registered yet.
        foreach (QueuedMessage message in recovered.Messages)
            Accept(message);
        lock (_lock)
        {
            _started = true;
            Reclaim(force: true);
        }
        if (recovered.Messages.Count > 0 || recovered.UnfinishedIntents.Count > 0)
        {
            _log.LogInformation("recovered {Messages} messages, {Intents} unfinished mailbox appends to check ({Records} records scanned, {Damaged} damaged)",
                recovered.Messages.Count, recovered.UnfinishedIntents.Count, recovered.RecordsScanned, recovered.DamagedRecords);
        }
        for (int i = 0; i < _options.Concurrency; i++)
            _workers.Add(Task.Run(WorkerLoopAsync));
        _workers.Add(Task.Run(HealthLoopAsync));
    }

    /// <summary>After a commit failure, tries to reopen the queue every <c>Queue:RecoveryInterval</c>; once it is
    /// back, new mail is accepted again and deferred deliveries are retried.</summary>
    private async Task HealthLoopAsync()
    {
        bool reported = false;
        try
        {
            while (true)
            {
                await Task.Delay(_recoveryInterval, _time, _stop.Token).ConfigureAwait(false);
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

    [ThreadStatic]
    private static List<PendingDelivery>? t_deliveries;

    public void Accept(QueuedMessage message)
    {
        List<PendingDelivery> deliveries = t_deliveries ??= [];
        deliveries.Clear();
        for (int i = 0; i < message.Recipients.Length; i++)
        {
            RecipientResolution resolution = _recipients.Resolve(LocalPart(message.Recipients[i]));
            // Indexed loops: foreach over an IReadOnlyList allocates an enumerator per list, per recipient.
            for (int p = 0; p < resolution.Problems.Count; p++)
                _log.LogWarning("{Id}: to=<{Rcpt}>: {Problem}", message.Id, message.Recipients[i], resolution.Problems[p]);
            for (int r = 0; r < resolution.RemoteAddresses.Count; r++)
                _log.LogWarning("{Id}: to=<{Rcpt}>, orig_to=<{Orig}>: forwarding to a remote address is not available; that copy is skipped", message.Id, resolution.RemoteAddresses[r], message.Recipients[i]);
            if (resolution.Mailboxes.Count == 0)
            {
                _log.LogWarning("{Id}: to=<{Rcpt}>, relay=local, status=bounced (no such local mailbox; no delivery status notification is sent yet)", message.Id, message.Recipients[i]);
                _ = RecordDoneAsync(message, i, "", RecipientOutcome.Bounced);
                continue;
            }
            for (int m = 0; m < resolution.Mailboxes.Count; m++)
            {
                string mailbox = resolution.Mailboxes[m];
                // One copy per mailbox, however many recipients lead to it (aliases, or the same address twice).
                if (!message.IsDone(i, mailbox) && !Contains(deliveries, mailbox))
                    deliveries.Add(new PendingDelivery(message, i, mailbox));
            }
        }
        lock (_lock)
        {
            _live.Add(message);
            if (deliveries.Count == 0)
            {
                FinishMessage(message);
                return;
            }
            _pending[message] = deliveries.Count;
            foreach (PendingDelivery delivery in deliveries)
            {
                MailboxWork work = Work(delivery.Mailbox);
                work.Pending.Enqueue(delivery);
                Schedule(work);
            }
        }
    }

    private MailboxWork Work(string mailbox)
    {
        if (!_mailboxes.TryGetValue(mailbox, out MailboxWork? work))
        {
            work = new MailboxWork(mailbox);
            _mailboxes.Add(mailbox, work);
        }
        return work;
    }

    /// <summary>Queues a mailbox for a worker unless one has it already or it waits for a retry.</summary>
    private void Schedule(MailboxWork work)
    {
        if (work.Scheduled || work.RetryTimer is not null)
            return;
        work.Scheduled = true;
        _ready.Writer.TryWrite(work);
    }

    private async Task WorkerLoopAsync()
    {
        var scratch = new ArrayBufferWriter<byte>(64 * 1024);
        var batch = new List<PendingDelivery>();
        try
        {
            await foreach (MailboxWork work in _ready.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await RunAsync(work, batch, scratch).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _log.LogError(e, "delivery to mailbox {Mailbox} failed unexpectedly; retrying later", work.Mailbox);
                    lock (_lock)
                        Defer(work, batch, "internal error: " + e.Message);
                }
                if (scratch.Capacity > MaxBatchBytes)
                    scratch = new ArrayBufferWriter<byte>(64 * 1024);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task RunAsync(MailboxWork work, List<PendingDelivery> batch, ArrayBufferWriter<byte> scratch)
    {
        batch.Clear();
        if (!CheckIntents(work))
            return;
        if (_options.BatchDelay > TimeSpan.Zero && work.Pending.Count < _options.MaxBatch)
        {
            // Let a busy mailbox gather a few more messages: one lock, one intent commit and one fsync for all.
            await Task.Delay(_options.BatchDelay, _time, _stop.Token).ConfigureAwait(false);
        }
        lock (_lock)
        {
            long bytes = 0;
            while (batch.Count < _options.MaxBatch && work.Pending.TryPeek(out PendingDelivery next)
                && (batch.Count == 0 || bytes + next.Message.Size <= MaxBatchBytes))
            {
                work.Pending.Dequeue();
                bytes += next.Message.Size;
                batch.Add(next);
            }
            if (batch.Count == 0)
            {
                work.Scheduled = false;
                return;
            }
        }

        DeliveryOutcome outcome = await _agent.DeliverAsync(work.Mailbox, batch, scratch, _stop.Token).ConfigureAwait(false);
        lock (_lock)
        {
            if (outcome.Status == DeliveryStatus.Delivered)
            {
                work.Failures = 0;
                foreach (PendingDelivery delivery in batch)
                    Delivered(delivery, outcome.Detail);
                work.Scheduled = false;
                if (work.Pending.Count > 0)
                    Schedule(work);
            }
            else
            {
                // An append that failed may have failed to roll back too: check the region before writing again.
                if (outcome.Unresolved is { } intent)
                    work.Intents.Add(intent);
                Defer(work, batch, outcome.Detail);
            }
        }
    }

    /// <summary>Before a mailbox is written again after a crash, finds out which announced appends happened.</summary>
    private bool CheckIntents(MailboxWork work)
    {
        List<DeliveryIntent> intents;
        lock (_lock)
        {
            if (work.Intents.Count == 0)
                return true;
            intents = [.. work.Intents];
        }
        foreach (DeliveryIntent intent in intents)
        {
            MailboxRegionState state = _agent.CheckIntent(intent, out string? detail);
            lock (_lock)
            {
                switch (state)
                {
                    case MailboxRegionState.Locked:
                    case MailboxRegionState.Failed:
                        Defer(work, [], "cannot check an interrupted append: " + (detail ?? state.ToString()));
                        return false;
                    case MailboxRegionState.Present:
                        MarkRecovered(work, intent);
                        break;
                    case MailboxRegionState.Changed:
                        // Something rewrote the mailbox since the crash: look for the messages themselves.
                        DeliveryIntentEntry[] found = Array.FindAll(intent.Entries, e => e.Mailbox == work.Mailbox && LocalDeliveryAgent.MailboxHolds(intent.MailboxPath, e.Id));
                        MarkRecovered(work, intent with { Entries = found });
                        _log.LogWarning("mailbox {Path} changed since an interrupted append ({Detail}); {Found} of {Count} messages found in it, the others are delivered again",
                            intent.MailboxPath, detail, found.Length, intent.Entries.Length);
                        break;
                    default:
                        _log.LogInformation("mailbox {Path}: interrupted append {State}; delivering again", intent.MailboxPath, state == MailboxRegionState.RolledBack ? "rolled back" : "not written");
                        break;
                }
                work.Intents.Remove(intent);
            }
        }
        return true;
    }

    /// <summary>The append happened before the crash: its deliveries are done, not repeated.</summary>
    private void MarkRecovered(MailboxWork work, DeliveryIntent intent)
    {
        int count = work.Pending.Count;
        for (int i = 0; i < count; i++)
        {
            PendingDelivery delivery = work.Pending.Dequeue();
            bool done = false;
            foreach (DeliveryIntentEntry entry in intent.Entries)
            {
                if (entry.Id == delivery.Message.Id && entry.Recipient == delivery.Recipient && entry.Mailbox == delivery.Mailbox)
                    done = true;
            }
            if (done)
                Delivered(delivery, "delivered to mailbox before restart");
            else
                work.Pending.Enqueue(delivery);
        }
    }

    private void Delivered(PendingDelivery delivery, string detail)
    {
        QueuedMessage message = delivery.Message;
        _ = RecordDoneAsync(message, delivery.Recipient, delivery.Mailbox, RecipientOutcome.Delivered);
        _log.Line(LogLevel.Information,
            $"{message.Id}: to=<{message.Recipients[delivery.Recipient]}>, relay=local, delay={Delay(message):0.##}, status=sent ({detail} {delivery.Mailbox})");
        if (_pending.TryGetValue(message, out int left))
        {
            if (left <= 1)
                FinishMessage(message);
            else
                _pending[message] = left - 1;
        }
    }

    private void Defer(MailboxWork work, List<PendingDelivery> batch, string reason)
    {
        // Put the batch back in front, in order, so that mailbox order is kept.
        if (batch.Count > 0)
        {
            var rest = new Queue<PendingDelivery>(batch.Count + work.Pending.Count);
            foreach (PendingDelivery d in batch)
                rest.Enqueue(d);
            while (work.Pending.TryDequeue(out PendingDelivery d))
                rest.Enqueue(d);
            work.Pending = rest;
        }
        work.Failures++;
        double factor = Math.Pow(2, Math.Min(work.Failures - 1, 16));
        TimeSpan delay = TimeSpan.FromTicks((long)Math.Min(_options.RetryDelay.Ticks * factor, _options.MaxRetryDelay.Ticks));
        foreach (PendingDelivery d in batch)
        {
            _log.Line(LogLevel.Information,
                $"{d.Message.Id}: to=<{d.Message.Recipients[d.Recipient]}>, relay=local, delay={Delay(d.Message):0.##}, status=deferred ({reason}); retry in {(int)delay.TotalSeconds}s");
        }
        if (batch.Count == 0)
            _log.LogInformation("mailbox {Mailbox}: deferred ({Reason}); retry in {Retry}s", work.Mailbox, reason, (int)delay.TotalSeconds);
        work.Scheduled = false;
        work.RetryTimer?.Dispose();
        work.RetryTimer = _time.CreateTimer(static state => ((QueueManager)((object[])state!)[0]).Retry((MailboxWork)((object[])state!)[1]),
            new object[] { this, work }, delay, Timeout.InfiniteTimeSpan);
    }

    private void Retry(MailboxWork work)
    {
        lock (_lock)
        {
            work.RetryTimer?.Dispose();
            work.RetryTimer = null;
            Schedule(work);
        }
    }

    /// <summary>Flushes the deferred mailboxes now (sendmail -q).</summary>
    public void RetryAll()
    {
        lock (_lock)
        {
            foreach (MailboxWork work in _mailboxes.Values)
            {
                if (work.RetryTimer is not null)
                {
                    work.RetryTimer.Dispose();
                    work.RetryTimer = null;
                    Schedule(work);
                }
            }
        }
    }

    private void FinishMessage(QueuedMessage message)
    {
        _pending.Remove(message);
        message.Removed = true;
        _queue.ReleaseResident(message);
        _ = RecordRemovedAsync(message);
        _log.Line(LogLevel.Information, $"{message.Id}: removed");
        _live.Remove(message);
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
    }

    private async Task RecordDoneAsync(QueuedMessage message, int recipient, string mailbox, RecipientOutcome outcome)
    {
        try
        {
            await _queue.RecordDoneAsync(message.Id, recipient, mailbox, outcome).ConfigureAwait(false);
        }
        catch (QueueUnavailableException e)
        {
            _log.LogError("{Id}: cannot record delivery in queue: {Reason}", message.Id, e.Message);
        }
    }

    private async Task RecordRemovedAsync(QueuedMessage message)
    {
        try
        {
            await _queue.RecordRemovedAsync(message.Id).ConfigureAwait(false);
        }
        catch (QueueUnavailableException e)
        {
            _log.LogError("{Id}: cannot record removal in queue: {Reason}", message.Id, e.Message);
        }
    }

    /// <summary>Seconds from arrival until now, logged as <c>delay=0.12</c>.</summary>
    private double Delay(QueuedMessage message) => Math.Max(0, (_time.GetUtcNow() - message.Arrival).TotalSeconds);

    private static ReadOnlySpan<char> LocalPart(string address)
    {
        int at = address.LastIndexOf('@');
        return at < 0 ? address : address.AsSpan(0, at);
    }

    private static bool Contains(List<PendingDelivery> deliveries, string mailbox)
    {
        foreach (PendingDelivery delivery in deliveries)
        {
            if (delivery.Mailbox == mailbox)
                return true;
        }
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        _ready.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_workers).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        lock (_lock)
        {
            foreach (MailboxWork work in _mailboxes.Values)
                work.RetryTimer?.Dispose();
        }
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

    private sealed class MailboxWork(string mailbox)
    {
        public string Mailbox { get; } = mailbox;
        public Queue<PendingDelivery> Pending { get; set; } = new();
        public List<DeliveryIntent> Intents { get; } = [];
        public bool Scheduled { get; set; }
        public ITimer? RetryTimer { get; set; }
        public int Failures { get; set; }
    }
}
