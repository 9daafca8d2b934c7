using System.Buffers;

namespace FastSpool.Queue;

/// <summary>A message's only record kept in memory from its commit until it is finished
/// (<see cref="MailQueue.KeepResident"/>). The queue holds one reference and each body read from it holds another;
/// the buffer goes back to the pool once the queue has let go of it and every such body is disposed, so a message
/// deleted while a transport or the notice writer still reads it cannot have its buffer reused under them.</summary>
internal sealed class ResidentCopy(MailQueue queue, byte[] buffer, int length)
{
    private int _references = 1;

    public byte[] Buffer { get; } = buffer;

    public int Length { get; } = length;

    public ReadOnlyMemory<byte> Record => Buffer.AsMemory(0, Length);

    /// <summary>A reference for one reader, or null when the buffer was already given back (the reader then reads
    /// the log).</summary>
    public IMemoryOwner<byte>? TryAcquire()
    {
        int references = Volatile.Read(ref _references);
        while (references > 0)
        {
            int seen = Interlocked.CompareExchange(ref _references, references + 1, references);
            if (seen == references)
                return new Reference(this);
            references = seen;
        }
        return null;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
            queue.ReturnResident(this);
    }

    private sealed class Reference(ResidentCopy copy) : IMemoryOwner<byte>
    {
        private ResidentCopy? _copy = copy;

        public Memory<byte> Memory => _copy is { } held ? held.Buffer.AsMemory(0, held.Length) : throw new ObjectDisposedException(nameof(ResidentCopy));

        public void Dispose() => Interlocked.Exchange(ref _copy, null)?.Release();
    }
}
