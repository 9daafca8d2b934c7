using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace FastSpool.Queue;

/// <summary>The one way into the queue (Postfix's cleanup): a door writes the message text into <see cref="FreeSpace"/>
/// as it arrives; full chunks go to the log at once (nothing holds a whole message); <see cref="Seal"/> writes the
/// envelope, the message's commit marker, and <see cref="CommitAsync"/> makes it durable and hands it to the queue
/// manager. The size limit is enforced while writing: past it the text is counted and dropped, and the door answers
/// at the end. Only this type knows the record layout; doors know nothing of it. One writer serves one door (a
/// session) for many messages; rent it from <see cref="MailQueue.RentWriter"/>.
/// A message being written keeps log space from being reclaimed only from its first chunk in the log on, and not for
/// long: once that chunk is more than <see cref="MailQueue.ReceptionMoveDistance"/> behind the log's tail, the writer
/// writes its chunks again at the tail (<see cref="MoveForwardAsync"/>), so a slow client cannot pin the log.</summary>
public sealed class MessageWriter : IValueTaskSource<QueuedMessage>
{
    private static readonly byte[] DiscardBuffer = new byte[64 * 1024];

    private readonly MailQueue _queue;
    private readonly List<long> _chunkAddresses = [];
    private byte[]? _chunk;
    private int _chunkLength;
    private bool _open;
    private long _pin = -1; // the reception bound registered with the queue, from the first record written
    private int _sealedLength;
    private QueuedMessage? _sealed;
    private readonly EnvelopeTextCache _text = new();

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
    public bool IsOpen => _open;

    /// <summary>Starts a message and gives it an id. Nothing is pinned in the log until its first chunk is written.</summary>
    public void Begin(DateTimeOffset arrival, long maxSize)
    {
        Abort();
        Id = _queue.NextId();
        Arrival = arrival;
        MaxSize = maxSize;
        Size = 0;
        TooBig = false;
        StoreFailed = false;
        _open = true;
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
        if (FallenBehind)
            await MoveForwardAsync().ConfigureAwait(false);
        if (Discarding)
        {
            _chunkLength = 0;
            return;
        }
        // Pinned before the append: the chunk lands at or above the bound, so no truncation can pass it.
        if (_pin < 0)
            _pin = _queue.BeginReception();
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

    /// <summary>The message's oldest chunk is more than <see cref="MailQueue.ReceptionMoveDistance"/> behind the log's
    /// tail: <see cref="MoveForwardAsync"/> should be called (a door calls it whenever text arrives).</summary>
    public bool FallenBehind => _pin >= 0 && _queue.Log.TailAddress - _pin > _queue.ReceptionMoveDistance;

    /// <summary>Writes the chunks written so far again at the log's tail and lets go of the old ones, so that a
    /// message received slowly does not keep the log behind it from being reclaimed. The text not yet in a chunk
    /// stays where it is. Nothing of this is committed on its own: after a crash the copies are garbage like the
    /// originals, and only the envelope, which names the chunks of the last copy, makes the message.</summary>
    public async ValueTask MoveForwardAsync()
    {
        if (_pin < 0)
            return;
        if (Discarding || _chunkAddresses.Count == 0)
        {
            // Nothing of it will be committed: its chunks are garbage already.
            _queue.EndReception(_pin);
            _pin = -1;
            _chunkAddresses.Clear();
            return;
        }
        long pin;
        try
        {
            pin = await _queue.CopyChunksForwardAsync(_chunkAddresses, Id).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QueueUnavailableException or IOException or InvalidDataException)
        {
            StoreFailed = true;
            return;
        }
        _queue.EndReception(_pin);
        _pin = pin;
        _queue.ReceptionMoved();
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
        _sealed = EnvelopeCodec.ToMessage(Id, Arrival, Size, envelope, [.. _chunkAddresses], chunks.IsEmpty ? long.MaxValue : Min(chunks), _text);
    }

    /// <summary>Makes the sealed message durable and hands it to the queue manager; the message is accepted once
    /// this completes (an SMTP door may answer 250). Throws <see cref="QueueUnavailableException"/> when the commit
    /// fails: nothing was accepted. Either way the writer is ready for the next message.</summary>
    public ValueTask<QueuedMessage> CommitAsync()
    {
        QueuedMessage message = _sealed ?? throw new InvalidOperationException("the message was not sealed");
        _sealed = null;
        ConfiguredValueTaskAwaitable<long>.ConfiguredValueTaskAwaiter durable;
        // The envelope is protected from truncation until the queue manager has taken the message in.
        if (_pin < 0)
            _pin = _queue.BeginReception();
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
        if (_pin >= 0)
        {
            _queue.EndReception(_pin);
            _pin = -1;
        }
        _open = false;
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
