using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace FastSpool.Queue;

/// <summary>The one way into the queue (Postfix's cleanup): a door writes the message text into <see cref="FreeSpace"/>
/// as it arrives; full chunks go to the log at once (nothing holds a whole message); <see cref="Seal"/> writes the
/// envelope, the message's commit marker, and <see cref="CommitAsync"/> makes it durable and hands it to the queue
/// manager. The size limit is enforced while writing: past it the text is counted and dropped, and the door answers
/// at the end. Only this type knows the record layout; doors know nothing of it. One writer serves one door (a
/// session) for many messages; rent it from <see cref="MailQueue.RentWriter"/>.</summary>
public sealed class MessageWriter : IValueTaskSource<QueuedMessage>
{
    private static readonly byte[] DiscardBuffer = new byte[64 * 1024];

    private readonly MailQueue _queue;
    private readonly List<long> _chunkAddresses = [];
    private byte[]? _chunk;
    private int _chunkLength;
    private long _reception = -1;
    private int _sealedLength;
    private QueuedMessage? _sealed;

    // The commit in progress: the writer is the task a door awaits (one per writer at a time), so that a commit
    // needs no state machine of its own.
    private ManualResetValueTaskSourceCore<QueuedMessage> _commit;
    private QueuedMessage? _committing;
    private ConfiguredValueTaskAwaitable<long>.ConfiguredValueTaskAwaiter _durable;
    private readonly Action _onDurable;

    internal MessageWriter(MailQueue queue)
    {
        _queue = queue;
        _onDurable = OnDurable;
    }

    public QueueId Id { get; private set; }

    public DateTimeOffset Arrival { get; private set; }

    /// <summary>Octets of message text written so far (including what was dropped past the limit).</summary>
    public long Size { get; private set; }

    public long MaxSize { get; private set; }

    /// <summary>The message grew past <see cref="MaxSize"/>: the rest is dropped, and it cannot be committed.</summary>
    public bool TooBig { get; private set; }

    /// <summary>Writing a chunk failed (the queue is unavailable): the rest is dropped, and it cannot be committed.</summary>
    public bool StoreFailed { get; private set; }

    public bool Discarding => TooBig || StoreFailed;

    /// <summary>A message is being written (between <see cref="Begin"/> and its commit or <see cref="Abort"/>).</summary>
    public bool IsOpen => _reception >= 0;

    /// <summary>Starts a message: gives it an id and protects the records it will write from space reclamation.</summary>
    public void Begin(DateTimeOffset arrival, long maxSize)
    {
        Abort();
        Id = _queue.NextId();
        Arrival = arrival;
        MaxSize = maxSize;
        Size = 0;
        TooBig = false;
        StoreFailed = false;
        _reception = _queue.BeginReception();
        _chunk ??= ChunkBufferPool.Rent();
        _chunkLength = 0;
        _chunkAddresses.Clear();
    }

    /// <summary>Where the next octets of message text go; empty when the current chunk is full (call
    /// <see cref="FlushChunkAsync"/>). While <see cref="Discarding"/>, a scratch area whose contents are dropped.</summary>
    public Span<byte> FreeSpace => Discarding
        ? DiscardBuffer
        : _chunk.AsSpan(QueueRecord.HeaderSize + _chunkLength, QueueRecord.MaxChunkBody - _chunkLength);

    /// <summary>The text written into the current chunk and not yet flushed.</summary>
    public ReadOnlySpan<byte> Pending => _chunk.AsSpan(QueueRecord.HeaderSize, _chunkLength);

    /// <summary>Counts <paramref name="written"/> octets put into <see cref="FreeSpace"/>.</summary>
    public void Advance(int written)
    {
        if (written == 0)
            return;
        if (!Discarding)
            _chunkLength += written;
        Size += written;
        if (!TooBig && Size > MaxSize)
            TooBig = true;
    }

    /// <summary>Counts a trace header the door wrote first (its <c>Received:</c>): stored, but not part of the size
    /// the client sent, so not counted against the size limit.</summary>
    public void AdvanceTrace(int written)
    {
        if (!Discarding)
            _chunkLength += written;
    }

    /// <summary>Copies text in, flushing chunks as they fill (for doors that have the text in hand).</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> text, CancellationToken cancellationToken = default)
    {
        while (!text.IsEmpty)
        {
            Span<byte> free = FreeSpace;
            if (free.IsEmpty)
            {
                await FlushChunkAsync().ConfigureAwait(false);
                continue;
            }
            int n = Math.Min(free.Length, text.Length);
            text.Span[..n].CopyTo(free);
            Advance(n);
            text = text[n..];
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Appends the current chunk to the log (not waited for: the envelope's commit covers it).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FlushChunkAsync()
    {
        if (Discarding || _chunkLength == 0)
        {
            _chunkLength = 0;
            return;
        }
        try
        {
            long address = await _queue.AppendChunkAsync(_chunk!, Id, (uint)_chunkAddresses.Count, _chunkLength).ConfigureAwait(false);
            _chunkAddresses.Add(address);
        }
        catch (QueueUnavailableException)
        {
            StoreFailed = true;
        }
        _chunkLength = 0;
    }

    /// <summary>Writes the envelope record after the last part of the text. Throws when the message cannot be
    /// committed (<see cref="Discarding"/>).</summary>
    public void Seal(in SubmissionEnvelope envelope)
    {
        if (Discarding || !IsOpen)
            throw new InvalidOperationException("the message cannot be committed: " + (TooBig ? "it is too big" : StoreFailed ? "the queue failed" : "it was not begun"));
        ReadOnlySpan<long> chunks = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_chunkAddresses);
        int needed = QueueRecord.HeaderSize + _chunkLength + EnvelopeCodec.FieldsSize(envelope, chunks.Length);
        if (needed > _chunk!.Length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(needed);
            _chunk.AsSpan(0, QueueRecord.HeaderSize + _chunkLength).CopyTo(larger);
            ChunkBufferPool.Return(_chunk);
            _chunk = larger;
        }
        _sealedLength = EnvelopeCodec.Write(_chunk, Id, Arrival, Size, envelope, chunks, _chunkLength);
        _sealed = EnvelopeCodec.ToMessage(Id, Arrival, Size, envelope, [.. _chunkAddresses], Math.Min(_reception, chunks.IsEmpty ? long.MaxValue : Min(chunks)));
    }

    /// <summary>Makes the sealed message durable and hands it to the queue manager; the message is accepted once
    /// this completes (an SMTP door may answer 250). Throws <see cref="QueueUnavailableException"/> when the commit
    /// fails: nothing was accepted. Either way the writer is ready for the next message.</summary>
    public ValueTask<QueuedMessage> CommitAsync()
    {
        QueuedMessage message = _sealed ?? throw new InvalidOperationException("the message was not sealed");
        _sealed = null;
        ConfiguredValueTaskAwaitable<long>.ConfiguredValueTaskAwaiter durable;
        try
        {
            // Once the envelope is in the log it will be committed whatever happens to the door, so it is always
            // handed on, never left half-owned (its chunks unprotected from truncation).
#pragma warning disable CA2012 // awaited by hand: its awaiter is completed exactly once, in Committed
            durable = _queue.Log.AppendDurableAsync(_chunk.AsMemory(0, _sealedLength), CancellationToken.None).ConfigureAwait(false).GetAwaiter();
#pragma warning restore CA2012
        }
        catch (Exception e)
        {
            Abort();
            return ValueTask.FromException<QueuedMessage>(e);
        }
        if (durable.IsCompleted)
        {
            try
            {
                return new ValueTask<QueuedMessage>(Committed(message, durable));
            }
            catch (Exception e)
            {
                return ValueTask.FromException<QueuedMessage>(e);
            }
        }
        _commit.Reset();
        _committing = message;
        _durable = durable;
        durable.UnsafeOnCompleted(_onDurable);
        return new ValueTask<QueuedMessage>(this, _commit.Version);
    }

    /// <summary>The commit covered the envelope (on the thread the log completed it on).</summary>
    private void OnDurable()
    {
        QueuedMessage message = _committing!;
        ConfiguredValueTaskAwaitable<long>.ConfiguredValueTaskAwaiter durable = _durable;
        _committing = null;
        _durable = default;
        QueuedMessage committed;
        try
        {
            committed = Committed(message, durable);
        }
        catch (Exception e)
        {
            _commit.SetException(e);
            return;
        }
        _commit.SetResult(committed);
    }

    /// <summary>The envelope is durable (or its commit failed, and this throws): the message is accepted and handed
    /// to the queue manager; either way the writer is ready for the next message.</summary>
    private QueuedMessage Committed(QueuedMessage message, ConfiguredValueTaskAwaitable<long>.ConfiguredValueTaskAwaiter durable)
    {
        try
        {
            message.EnvelopeAddress = durable.GetResult();
            message.FirstAddress = Math.Min(message.FirstAddress, message.EnvelopeAddress);
            _queue.KeepResident(message, _chunk.AsSpan(0, _sealedLength));
            _queue.Accepted(message);
            return message;
        }
        finally
        {
            Abort();
        }
    }

    QueuedMessage IValueTaskSource<QueuedMessage>.GetResult(short token) => _commit.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<QueuedMessage>.GetStatus(short token) => _commit.GetStatus(token);

    void IValueTaskSource<QueuedMessage>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _commit.OnCompleted(continuation, state, token, flags);

    /// <summary>Drops a message being written: its chunks become garbage for truncation; the buffer goes back to
    /// the pool (an idle door holds no message buffer).</summary>
    public void Abort()
    {
        if (_reception >= 0)
        {
            _queue.EndReception(_reception);
            _reception = -1;
        }
        if (_chunk is not null)
        {
            ChunkBufferPool.Return(_chunk);
            _chunk = null;
        }
        _sealed = null;
        _chunkAddresses.Clear();
    }

    private static long Min(ReadOnlySpan<long> values)
    {
        long min = long.MaxValue;
        foreach (long v in values)
            min = Math.Min(min, v);
        return min;
    }
}
