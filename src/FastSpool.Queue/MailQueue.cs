using System.Buffers;

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
    public void KeepResident(QueuedMessage message, ReadOnlySpan<byte> record)
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
        message.ResidentLength = record.Length;
        message.Resident = copy;
    }

    /// <summary>Drops the in-memory copy once nothing will read the message's body any more (it is finished).</summary>
    public void ReleaseResident(QueuedMessage message)
    {
        byte[]? copy = Interlocked.Exchange(ref message.Resident, null);
        if (copy is null)
            return;
        Interlocked.Add(ref _residentBytes, -message.ResidentLength);
        _residentPool.Return(copy);
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

    /// <summary>Marks the start of a message's records: nothing at or above the returned bound is reclaimed until
    /// <see cref="EndReception"/> (chunks written before their envelope must survive truncation).</summary>
    public long BeginReception()
    {
        lock (_receptions)
        {
            long bound = _log.TailAddress;
            _receptions.Add(bound);
            return bound;
        }
    }

    public void EndReception(long bound)
    {
        lock (_receptions)
            _receptions.Remove(bound);
    }

    /// <summary>Appends a body chunk. The record buffer holds the body at <see cref="QueueRecord.HeaderSize"/>;
    /// the header and checksum are filled in here.</summary>
    public ValueTask<long> AppendChunkAsync(Memory<byte> record, QueueId id, uint index, int bodyLength)
    {
        Span<byte> span = record.Span[..(QueueRecord.HeaderSize + bodyLength)];
        QueueRecord.WriteHeader(span, QueueRecordType.Chunk, id.Value, index, bodyLength);
        QueueRecord.Seal(span);
        return _log.AppendAsync(record[..span.Length]);
    }

    /// <summary>Bytes the envelope's fields take after its inline body.</summary>
    public static int EnvelopeFieldsSize(in EnvelopeFields fields) =>
        8 + 8 + 1
        + 2 + fields.ClientAddress.Length
        + 2 + fields.ClientHelo.Length
        + 2 + fields.Sender.Length
        + 4 + fields.Recipients.EncodedSize
        + 4 + (8 * fields.ChunkAddresses.Length);

    /// <summary>Completes an envelope record whose inline body is already in place; returns the record length.</summary>
    public static int WriteEnvelope(Span<byte> record, in EnvelopeFields fields, int bodyLength)
    {
        QueueRecord.WriteHeader(record, QueueRecordType.Envelope, fields.Id.Value, (uint)fields.ChunkAddresses.Length, bodyLength);
        var writer = new FieldWriter(record[(QueueRecord.HeaderSize + bodyLength)..]);
        writer.WriteInt64(fields.Arrival.ToUnixTimeMilliseconds());
        writer.WriteInt64(fields.Size);
        writer.WriteByte((byte)((fields.EightBitMime ? FlagEightBitMime : 0) | (fields.SmtpUtf8 ? FlagSmtpUtf8 : 0)));
        writer.WriteBytes(fields.ClientAddress);
        writer.WriteBytes(fields.ClientHelo);
        writer.WriteBytes(fields.Sender);
        writer.WriteUInt32((uint)fields.Recipients.Count);
        for (int i = 0; i < fields.Recipients.Count; i++)
            writer.WriteBytes(fields.Recipients[i]);
        writer.WriteUInt32((uint)fields.ChunkAddresses.Length);
        foreach (long address in fields.ChunkAddresses)
            writer.WriteInt64(address);
        int length = QueueRecord.HeaderSize + bodyLength + writer.Position;
        QueueRecord.Seal(record[..length]);
        return length;
    }

    /// <summary>Makes the envelope durable: the message is accepted once this completes (the 250 may be sent).</summary>
    public ValueTask<long> CommitEnvelopeAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default) =>
        _log.AppendDurableAsync(record, cancellationToken);

    /// <summary>Reads an envelope record back into the queue manager's form.</summary>
    public static QueuedMessage ReadEnvelope(long address, ReadOnlySpan<byte> record, in QueueRecordHeader header)
    {
        var reader = new FieldReader(QueueRecord.Fields(record, header));
        long arrival = reader.ReadInt64();
        long size = reader.ReadInt64();
        byte flags = reader.ReadByte();
        string client = reader.ReadString();
        string helo = reader.ReadString();
        string sender = reader.ReadString();
        var recipients = new string[reader.ReadUInt32()];
        for (int i = 0; i < recipients.Length; i++)
            recipients[i] = reader.ReadString();
        var chunks = new long[reader.ReadUInt32()];
        long first = address;
        for (int i = 0; i < chunks.Length; i++)
        {
            chunks[i] = reader.ReadInt64();
            first = Math.Min(first, chunks[i]);
        }
        return new QueuedMessage
        {
            Id = new QueueId(header.QueueId),
            FirstAddress = first,
            EnvelopeAddress = address,
            Arrival = DateTimeOffset.FromUnixTimeMilliseconds(arrival),
            Size = size,
            Sender = sender,
            Recipients = recipients,
            ChunkAddresses = chunks,
            ClientAddress = client,
            ClientHelo = helo,
            EightBitMime = (flags & FlagEightBitMime) != 0,
            SmtpUtf8 = (flags & FlagSmtpUtf8) != 0,
        };
    }

    /// <summary>Reads a message's body: its chunks in order, then the envelope's inline tail.</summary>
    public async ValueTask<MessageBody> ReadBodyAsync(QueuedMessage message, CancellationToken cancellationToken = default)
    {
        if (message.Resident is { } resident)
        {
            ReadOnlyMemory<byte> record = resident.AsMemory(0, message.ResidentLength);
            if (!QueueRecord.TryRead(record.Span, out QueueRecordHeader residentHeader) || residentHeader.QueueId != message.Id.Value)
                throw new InvalidDataException($"{message.Id}: the in-memory copy of the message is damaged");
            Interlocked.Increment(ref _residentReads);
            return new MessageBody([], new ReadOnlySequence<byte>(record.Slice(QueueRecord.HeaderSize, residentHeader.BodyLength)));
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

    /// <summary>Commits an intent before the mailbox is written (exactly-once delivery across crashes).</summary>
    public async ValueTask RecordIntentAsync(DeliveryIntent intent, CancellationToken cancellationToken = default)
    {
        int size = QueueRecord.HeaderSize + FieldWriter.SizeOf(intent.MailboxPath) + 8 + 8 + 4 + 4;
        foreach (DeliveryIntentEntry entry in intent.Entries)
            size += 8 + 4 + FieldWriter.SizeOf(entry.Mailbox);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            Span<byte> record = buffer.AsSpan(0, size);
            QueueRecord.WriteHeader(record, QueueRecordType.DeliveryIntent, 0, (uint)intent.Entries.Length, 0);
            var writer = new FieldWriter(record[QueueRecord.HeaderSize..]);
            writer.WriteString(intent.MailboxPath);
            writer.WriteInt64(intent.Offset);
            writer.WriteInt64(intent.Length);
            writer.WriteUInt32(intent.Crc);
            writer.WriteUInt32((uint)intent.Entries.Length);
            foreach (DeliveryIntentEntry entry in intent.Entries)
            {
                writer.WriteUInt64(entry.Id.Value);
                writer.WriteUInt32((uint)entry.Recipient);
                writer.WriteString(entry.Mailbox);
            }
            QueueRecord.Seal(record);
            await _log.AppendDurableAsync(buffer.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Records a finished recipient. Not waited for: if it is lost in a crash, recovery finds the delivery
    /// through its intent and the mailbox's tail.</summary>
    public ValueTask RecordDoneAsync(QueueId id, int recipient, string mailbox, RecipientOutcome outcome) =>
        AppendSmallAsync(QueueRecordType.RecipientDone, id, (uint)recipient, mailbox, (byte)outcome);

    /// <summary>Records that the whole message is finished or deleted; its space can be reclaimed.</summary>
    public ValueTask RecordRemovedAsync(QueueId id) =>
        AppendSmallAsync(QueueRecordType.MessageRemoved, id, 0, "", 0);

    private async ValueTask AppendSmallAsync(QueueRecordType type, QueueId id, uint index, string text, byte code)
    {
        int size = QueueRecord.HeaderSize + 1 + FieldWriter.SizeOf(text);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            Span<byte> record = buffer.AsSpan(0, size);
            QueueRecord.WriteHeader(record, type, id.Value, index, 0);
            var writer = new FieldWriter(record[QueueRecord.HeaderSize..]);
            writer.WriteByte(code);
            writer.WriteString(text);
            QueueRecord.Seal(record);
            await _log.AppendAsync(buffer.AsMemory(0, size)).ConfigureAwait(false);
            _log.RequestCommit();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
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
        private readonly List<DeliveryIntent> _intents = [];
        private readonly RecoveredQueue _result = new();

        public ulong HighestId { get; private set; }

        public int RecordsScanned => _result.RecordsScanned;

        public void Visit(long address, ReadOnlySpan<byte> record)
        {
            _result.RecordsScanned++;
            if (!QueueRecord.TryRead(record, out QueueRecordHeader header))
            {
                _result.DamagedRecords++;
                return;
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
            switch (header.Type)
            {
                case QueueRecordType.Envelope:
                    QueuedMessage message = ReadEnvelope(address, record, header);
                    _messages[header.QueueId] = message;
                    HighestId = Math.Max(HighestId, header.QueueId);
                    break;
                case QueueRecordType.Chunk:
                    HighestId = Math.Max(HighestId, header.QueueId);
                    break;
                case QueueRecordType.RecipientDone:
                    if (_messages.TryGetValue(header.QueueId, out QueuedMessage? done))
                    {
                        var reader = new FieldReader(QueueRecord.Fields(record, header));
                        reader.ReadByte();
                        done.MarkDone((int)header.Index, reader.ReadString());
                    }
                    break;
                case QueueRecordType.MessageRemoved:
                    _messages.Remove(header.QueueId);
                    break;
                case QueueRecordType.DeliveryIntent:
                    _intents.Add(ReadIntent(record, header));
                    break;
                default:
                    _result.DamagedRecords++;
                    break;
            }
        }

        private static DeliveryIntent ReadIntent(ReadOnlySpan<byte> record, in QueueRecordHeader header)
        {
            var reader = new FieldReader(QueueRecord.Fields(record, header));
            string path = reader.ReadString();
            long offset = reader.ReadInt64();
            long length = reader.ReadInt64();
            uint crc = reader.ReadUInt32();
            var entries = new DeliveryIntentEntry[reader.ReadUInt32()];
            for (int i = 0; i < entries.Length; i++)
                entries[i] = new DeliveryIntentEntry(new QueueId(reader.ReadUInt64()), (int)reader.ReadUInt32(), reader.ReadString());
            return new DeliveryIntent(path, offset, length, crc, entries);
        }

        public RecoveredQueue Finish()
        {
            foreach (QueuedMessage message in _messages.Values)
                _result.Messages.Add(message);
            _result.Messages.Sort(static (a, b) => a.EnvelopeAddress.CompareTo(b.EnvelopeAddress));
            foreach (DeliveryIntent intent in _intents)
            {
                foreach (DeliveryIntentEntry entry in intent.Entries)
                {
                    if (_messages.TryGetValue(entry.Id.Value, out QueuedMessage? m) && !m.IsDone(entry.Recipient, entry.Mailbox))
                    {
                        _result.UnfinishedIntents.Add(intent);
                        break;
                    }
                }
            }
            return _result;
        }
    }
}
