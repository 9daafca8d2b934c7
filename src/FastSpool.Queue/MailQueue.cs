using System.Buffers;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Queue;

/// <summary>The mail queue on top of the log: message chunks and envelopes from sessions, delivery intents and
/// results from the delivery agents, the recovery scan, and space reclamation. One instance per data directory;
/// every writer of the queue goes through it (DESIGN invariant 6).</summary>
public sealed class MailQueue : IAsyncDisposable
{
    private const byte FlagEightBitMime = 1;
    private const byte FlagSmtpUtf8 = 2;

    private readonly IQueueLog _log;
    private readonly QueueIdGenerator _ids;
    private readonly List<long> _receptions = [];
    private readonly BoundedPool<MessageWriter> _writers;
    private long _residentBytes;

    // The shared pool keeps only a few arrays of a size per core; resident copies stay out until their message is
    // delivered, so with dozens of sessions most rents from it would be fresh allocations. 256 arrays per size keep
    // at most about 32 MiB for reuse (the 64, 32, 16 ... KiB buckets).
    private readonly ArrayPool<byte> _residentPool = ArrayPool<byte>.Create(MaxResidentRecord, 256);
    private long _residentReads;

    private MailQueue(IQueueLog log, ulong highestId)
    {
        _log = log;
        _ids = new QueueIdGenerator(highestId);
        _writers = new BoundedPool<MessageWriter>(() => new MessageWriter(this), 256);
    }

    public IQueueLog Log => _log;

    /// <summary>Largest single-record message kept in memory for its deliveries.</summary>
    public const int MaxResidentRecord = 64 * 1024;

    /// <summary>Bytes of message records kept in memory at most; beyond it bodies are read back from the log.</summary>
    public long ResidentBudget { get; set; } = 32L * 1024 * 1024;

    /// <summary>Bodies served from memory instead of the log since start.</summary>
    public long ResidentReads => Interlocked.Read(ref _residentReads);

    /// <summary>Bytes of message records now kept in memory.</summary>
    public long ResidentBytes => Interlocked.Read(ref _residentBytes);

    /// <summary>Keeps a copy of a message that fits in one record (the envelope with the whole body) until
    /// <see cref="ReleaseResident"/>, so that delivering it does not read it back from the log (a device read per
    /// message). Small messages only, within <see cref="ResidentBudget"/>; others are read from the log as before.</summary>
    internal void KeepResident(QueuedMessage message, ReadOnlySpan<byte> record)
    {
        if (message.ChunkAddresses.Length != 0 || record.Length > MaxResidentRecord || message.Resident is not null)
            return;
        if (Interlocked.Add(ref _residentBytes, record.Length) > ResidentBudget)
        {
            Interlocked.Add(ref _residentBytes, -record.Length);
            return;
        }
        byte[] copy = _residentPool.Rent(record.Length);
        record.CopyTo(copy);
        message.Resident = new ResidentCopy(this, copy, record.Length);
    }

    /// <summary>Drops the in-memory copy once the message is finished or deleted; bodies already read from it stay
    /// valid until they are disposed.</summary>
    public void ReleaseResident(QueuedMessage message) => Interlocked.Exchange(ref message.Resident, null)?.Release();

    /// <summary>The last reference to an in-memory copy is gone: its buffer goes back to the pool.</summary>
    internal void ReturnResident(ResidentCopy copy)
    {
        Interlocked.Add(ref _residentBytes, -copy.Length);
        _residentPool.Return(copy.Buffer);
    }

    /// <summary>False after a commit failure: nothing can be accepted any more.</summary>
    public bool IsHealthy => _log.Failure is null;

    /// <summary>Recovers the queue: scans the log once and rebuilds the set of unfinished messages.</summary>
    public static async Task<(MailQueue Queue, RecoveredQueue Recovered)> OpenAsync(IQueueLog log, CancellationToken cancellationToken = default)
    {
        var scan = new RecoveryScan();
        try
        {
            await log.ScanAsync(log.BeginAddress, scan.Visit, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException and not QueueOpenException)
        {
            throw new QueueOpenException($"the queue log cannot be read back after record {scan.RecordsScanned} (log from {log.BeginAddress} to {log.TailAddress}): {e.Message}", e);
        }
        return (new MailQueue(log, scan.HighestId), scan.Finish());
    }

    public QueueId NextId() => _ids.Next();

    /// <summary>After a commit failure: tries to bring the log back (see <see cref="IQueueLog.TryRecoverAsync"/>).</summary>
    public ValueTask<bool> TryRecoverAsync(CancellationToken cancellationToken = default) => _log.TryRecoverAsync(cancellationToken);

    /// <summary>How far behind the log's tail the oldest chunk of a message still being received may fall before the
    /// writer writes its chunks again at the tail (<see cref="MessageWriter.MoveForwardAsync"/>): one segment, so that
    /// a slow client keeps at most about one segment more of the log on disk. Set from the log's geometry.</summary>
    public long ReceptionMoveDistance { get; set; } = 128L << 20;

    /// <summary>Marks the start of a message's records: nothing at or above the returned bound is reclaimed until
    /// <see cref="EndReception"/> (chunks written before their envelope must survive truncation).</summary>
    internal long BeginReception()
    {
        lock (_receptions)
        {
            long bound = _log.TailAddress;
            _receptions.Add(bound);
            return bound;
        }
    }

    internal void EndReception(long bound)
    {
        lock (_receptions)
            _receptions.Remove(bound);
    }

    /// <summary>Writes a reception's chunks again at the log's tail, in order, replacing their addresses in
    /// <paramref name="chunks"/>; returns the bound that protects the copies (the caller ends the old one). The
    /// originals are read back once committed (a read stops at the committed tail); records are copied as they are,
    /// header and checksum included.</summary>
    internal async ValueTask<long> CopyChunksForwardAsync(List<long> chunks, QueueId id)
    {
        long pin = BeginReception();
        long[] copies = new long[chunks.Count];
        try
        {
            await _log.WaitCommittedAsync(chunks[^1]).ConfigureAwait(false);
            for (int i = 0; i < copies.Length; i++)
            {
                (IMemoryOwner<byte> owner, int length) = await _log.ReadAsync(chunks[i]).ConfigureAwait(false);
                using (owner)
                {
                    ReadOnlyMemory<byte> record = owner.Memory[..length];
                    if (!QueueRecord.TryRead(record.Span, out QueueRecordHeader header) || header.QueueId != id.Value || header.Index != (uint)i)
                        throw new InvalidDataException($"{id}: chunk {i} at {chunks[i]} is damaged or belongs to another message");
                    copies[i] = await _log.AppendAsync(record).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            EndReception(pin);
            throw;
        }
        copies.CopyTo(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(chunks));
        return pin;
    }

    /// <summary>A reception let go of old records: space may be reclaimed now.</summary>
    internal void ReceptionMoved() => Sink?.ReceptionMoved();

    /// <summary>Appends a body chunk. The record buffer holds the body at <see cref="QueueRecord.HeaderSize"/>;
    /// the header and checksum are filled in here.</summary>
    internal ValueTask<long> AppendChunkAsync(Memory<byte> record, QueueId id, uint index, int bodyLength)
    {
        Span<byte> span = record.Span[..(QueueRecord.HeaderSize + bodyLength)];
        QueueRecord.WriteHeader(span, QueueRecordType.Chunk, id.Value, index, bodyLength);
        QueueRecord.Seal(span);
        return _log.AppendAsync(record[..span.Length]);
    }

    /// <summary>Reads a message's body: its chunks in order, then the envelope's inline tail.</summary>
    public async ValueTask<MessageBody> ReadBodyAsync(QueuedMessage message, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref message.Resident) is { } resident && resident.TryAcquire())
        {
            ReadOnlyMemory<byte> record = resident.Record;
            if (!QueueRecord.TryRead(record.Span, out QueueRecordHeader residentHeader) || residentHeader.QueueId != message.Id.Value)
            {
                resident.Release();
                throw new InvalidDataException($"{message.Id}: the in-memory copy of the message is damaged");
            }
            Interlocked.Increment(ref _residentReads);
            return new MessageBody(resident, new ReadOnlySequence<byte>(record.Slice(QueueRecord.HeaderSize, residentHeader.BodyLength)));
        }
        var owners = new IMemoryOwner<byte>[message.ChunkAddresses.Length + 1];
        var parts = new ReadOnlyMemory<byte>[owners.Length];
        int count = 0;
        try
        {
            for (int i = 0; i < owners.Length; i++)
            {
                long address = i < message.ChunkAddresses.Length ? message.ChunkAddresses[i] : message.EnvelopeAddress;
                (IMemoryOwner<byte> owner, int length) = await _log.ReadAsync(address, cancellationToken).ConfigureAwait(false);
                owners[count++] = owner;
                Memory<byte> record = owner.Memory[..length];
                if (!QueueRecord.TryRead(record.Span, out QueueRecordHeader header) || header.QueueId != message.Id.Value)
                    throw new InvalidDataException($"{message.Id}: queue record at {address} is damaged or belongs to another message");
                parts[i] = record.Slice(QueueRecord.HeaderSize, header.BodyLength);
            }
            return new MessageBody(owners, MessageBody.Join(parts));
        }
        catch
        {
            for (int i = 0; i < count; i++)
                owners[i].Dispose();
            throw;
        }
    }

    /// <summary>Where committed messages go (the queue manager); set once before doors open.</summary>
    public IQueueSink? Sink { get; set; }

    internal void Accepted(QueuedMessage message) =>
        (Sink ?? throw new InvalidOperationException("no queue manager takes committed messages")).Accept(message);

    /// <summary>A writer for one door, kept for its next message; give it back with <see cref="ReturnWriter"/>.</summary>
    public MessageWriter RentWriter() => _writers.Rent();

    public void ReturnWriter(MessageWriter writer)
    {
        writer.Abort();
        _writers.Return(writer);
    }

    /// <summary>Commits a transport's crash record before it writes (for the local transport: which mbox region an
    /// append will fill, so that recovery can tell whether it happened).</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask RecordJournalAsync(string transport, ReadOnlyMemory<byte> payload, JournalEntry[] entries, CancellationToken cancellationToken = default)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(StateRecords.JournalSize(transport, payload.Length, entries));
        try
        {
            int length = StateRecords.WriteJournal(buffer, transport, payload.Span, entries);
            await _log.AppendDurableAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Records that one part of a recipient's delivery is done. Not waited for: if it is lost in a crash,
    /// the transport's journal tells recovery what happened.</summary>
    public ValueTask RecordPartDoneAsync(QueueId id, int recipient, string part) =>
        AppendAsync(StateRecords.PartDoneSize(part), (id, recipient, part), static (span, s) => StateRecords.WritePartDone(span, s.id, s.recipient, s.part), durable: false);

    /// <summary>Records a recipient's new state (deferred until T, sent, bounced) with its reply. Not waited for: a
    /// lost deferral is retried sooner, a lost final state is found again through the journal or tried again.</summary>
    public ValueTask RecordRecipientStateAsync(QueueId id, int recipient, QueuedRecipient state, DateTimeOffset time, bool durable = false) =>
        AppendAsync(StateRecords.RecipientStateSize(state.LastReply), (id, recipient, state, time),
            static (span, s) => StateRecords.WriteRecipientState(span, s.id, s.recipient, s.state.Status, s.time, s.state.Attempts, s.state.NextAttempt, s.state.LastReply),
            durable);

    /// <summary>Records a hold, release or delay notice; durable when this completes (an admin's hold survives a crash
    /// once acknowledged).</summary>
    public ValueTask RecordControlAsync(QueueId id, MessageControlAction action, DateTimeOffset time, string who) =>
        AppendAsync(StateRecords.ControlSize(who), (id, action, time, who),
            static (span, s) => StateRecords.WriteControl(span, s.id, s.action, s.time, s.who), durable: true);

    /// <summary>Records that the whole message is finished or deleted; its space can be reclaimed. With
    /// <paramref name="durable"/> (an admin's delete) it completes once committed; a finished message's removal is
    /// not waited for (lost in a crash, the message is found finished again from its other records).</summary>
    public ValueTask RecordRemovedAsync(QueueId id, string reason, bool durable = true) =>
        AppendAsync(StateRecords.RemovedSize(reason), (id, reason), static (span, s) => StateRecords.WriteRemoved(span, s.id, s.reason), durable);

    private async ValueTask AppendAsync<TState>(int size, TState state, RecordWriter<TState> write, bool durable)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            int length = write(buffer, state);
            if (durable)
            {
                await _log.AppendDurableAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
            }
            else
            {
                await _log.AppendAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
                _log.RequestCommit();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private delegate int RecordWriter<in TState>(Span<byte> record, TState state);

    /// <summary>First step of moving a message forward in the log (so that a message deferred for days does not pin
    /// the log's head): its body is written again at the tail, as chunks for all but the last part.</summary>
    public async ValueTask<MessageCopy> WriteCopyChunksAsync(QueuedMessage message, CancellationToken cancellationToken = default)
    {
        using MessageBody body = await ReadBodyAsync(message, cancellationToken).ConfigureAwait(false);
        var chunks = new List<long>();
        byte[] buffer = ChunkBufferPool.Rent();
        try
        {
            ReadOnlySequence<byte> rest = body.Content;
            while (rest.Length > QueueRecord.MaxChunkBody)
            {
                rest.Slice(0, QueueRecord.MaxChunkBody).CopyTo(buffer.AsSpan(QueueRecord.HeaderSize));
                chunks.Add(await AppendChunkAsync(buffer, message.Id, (uint)chunks.Count, QueueRecord.MaxChunkBody).ConfigureAwait(false));
                rest = rest.Slice(QueueRecord.MaxChunkBody);
            }
            return new MessageCopy([.. chunks], rest.ToArray());
        }
        finally
        {
            ChunkBufferPool.Return(buffer);
        }
    }

    /// <summary>Second step, under the queue manager's lock so that no state change can fall between the snapshot and
    /// the record: appends the envelope with every recipient's current state after the copy's chunks. False when the
    /// log has no room at this instant (try again later). Recovery takes a later envelope of a known message as its
    /// new place in the log, and the state in it only when the earlier records are gone.</summary>
    public bool TryAppendCopyEnvelope(QueuedMessage message, MessageCopy copy, out long address)
    {
        int size = QueueRecord.HeaderSize + copy.Tail.Length + EnvelopeCodec.CopySize(message);
        byte[] record = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            copy.Tail.CopyTo(record.AsSpan(QueueRecord.HeaderSize));
            int length = EnvelopeCodec.WriteCopy(record, message, copy.Chunks, copy.Tail.Length);
            return _log.TryAppend(record.AsSpan(0, length), out address);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(record);
        }
    }

    /// <summary>Frees log space below the oldest address still needed: the oldest unfinished message, or a message
    /// still being received.</summary>
    public void ReclaimSpace(long oldestLiveAddress)
    {
        long bound = oldestLiveAddress;
        lock (_receptions)
        {
            foreach (long reception in _receptions)
                bound = Math.Min(bound, reception);
            bound = Math.Min(bound, _log.TailAddress);
        }
        _log.TruncateUntil(bound);
    }

    public ValueTask DisposeAsync() => _log.DisposeAsync();

    private sealed class RecoveryScan
    {
        private readonly Dictionary<ulong, QueuedMessage> _messages = [];
        private readonly List<JournalRecord> _journals = [];
        private readonly RecoveredQueue _result = new();

        public ulong HighestId { get; private set; }

        public int RecordsScanned => _result.RecordsScanned;

        public void Visit(long address, ReadOnlySpan<byte> record)
        {
            _result.RecordsScanned++;
            switch (QueueRecord.Check(record, out QueueRecordHeader header))
            {
                case RecordCheck.Damaged:
                    _result.DamagedRecords++;
                    return;
                case RecordCheck.NewerVersion:
                    throw new QueueOpenException($"the queue holds a record at {address} in format version {record[1]}, written by a newer FastSpool; this one reads versions {QueueRecord.OldestVersion} to {QueueRecord.Version}: refusing to start rather than lose its state");
            }
            try
            {
                Apply(address, record, header);
            }
            catch (InvalidDataException)
            {
                // A record whose checksum is right but whose fields do not parse: skip it, count it, go on.
                _result.DamagedRecords++;
            }
        }

        private void Apply(long address, ReadOnlySpan<byte> record, in QueueRecordHeader header)
        {
            ReadOnlySpan<byte> fields = QueueRecord.Fields(record, header);
            switch (header.Type)
            {
                case QueueRecordType.Envelope:
                    QueuedMessage message = EnvelopeCodec.Read(address, record, header, out DeliveryReport? report);
                    if (_messages.TryGetValue(header.QueueId, out QueuedMessage? earlier))
                    {
                        // A copy moved forward while the original was still in the log: the records read so far
                        // hold every state change up to the copy; only the message's place changes.
                        earlier.ChunkAddresses = message.ChunkAddresses;
                        earlier.EnvelopeAddress = message.EnvelopeAddress;
                        earlier.FirstAddress = message.FirstAddress;
                        break;
                    }
                    _messages[header.QueueId] = message;
                    HighestId = Math.Max(HighestId, header.QueueId);
                    if (report is not null)
                        MarkNotified(report);
                    break;
                case QueueRecordType.Chunk:
                    HighestId = Math.Max(HighestId, header.QueueId);
                    break;
                case QueueRecordType.PartDone:
                    if (Recipient(header) is { } done)
                        done.MarkPartDone(StateRecords.ReadPartDone(fields, header.Version));
                    break;
                case QueueRecordType.RecipientState:
                    if (Recipient(header) is { } changed)
                        StateRecords.ApplyRecipientState(fields, changed);
                    break;
                case QueueRecordType.MessageControl:
                    if (_messages.TryGetValue(header.QueueId, out QueuedMessage? controlled))
                    {
                        switch ((MessageControlAction)header.Index)
                        {
                            case MessageControlAction.Hold: controlled.Held = true; break;
                            case MessageControlAction.Release: controlled.Held = false; break;
                            case MessageControlAction.DelayWarned: controlled.DelayWarned = true; break;
                            default: _result.UnknownRecords++; break;
                        }
                    }
                    break;
                case QueueRecordType.MessageRemoved:
                    _messages.Remove(header.QueueId);
                    break;
                case QueueRecordType.Journal:
                    _journals.Add(StateRecords.ReadJournal(fields, header.Version));
                    break;
                default:
                    _result.UnknownRecords++;
                    break;
            }
        }

        private QueuedRecipient? Recipient(in QueueRecordHeader header) =>
            _messages.TryGetValue(header.QueueId, out QueuedMessage? m) && header.Index < (uint)m.Recipients.Length
                ? m.Recipients[header.Index]
                : null;

        /// <summary>A notice in the log was committed: the recipients it reports on are not notified again.</summary>
        private void MarkNotified(DeliveryReport report)
        {
            if (!_messages.TryGetValue(report.Original.Value, out QueuedMessage? original))
                return;
            if (report.Kind == DeliveryReportKind.Delay)
            {
                original.DelayWarned = true;
                return;
            }
            DsnNotify kind = report.Kind == DeliveryReportKind.Success ? DsnNotify.Success : DsnNotify.Failure;
            foreach (int index in report.Recipients)
            {
                if ((uint)index < (uint)original.Recipients.Length)
                    original.Recipients[index].Notified |= kind;
            }
        }

        public RecoveredQueue Finish()
        {
            foreach (QueuedMessage message in _messages.Values)
                _result.Messages.Add(message);
            _result.Messages.Sort(static (a, b) => a.EnvelopeAddress.CompareTo(b.EnvelopeAddress));
            foreach (JournalRecord journal in _journals)
            {
                foreach (JournalEntry entry in journal.Entries)
                {
                    if (_messages.TryGetValue(entry.Id.Value, out QueuedMessage? m) && (uint)entry.Recipient < (uint)m.Recipients.Length
                        && !m.Recipients[entry.Recipient].IsFinal && !m.Recipients[entry.Recipient].IsPartDone(entry.Part))
                    {
                        _result.UnfinishedJournals.Add(journal);
                        break;
                    }
                }
            }
            return _result;
        }
    }
}
