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

    /// <summary>Takes a reference for one reader (a <see cref="MessageBody"/>, which releases it when disposed);
    /// false when the buffer was already given back (the reader then reads the log).</summary>
    public bool TryAcquire()
    {
        int references = Volatile.Read(ref _references);
        while (references > 0)
        {
            int seen = Interlocked.CompareExchange(ref _references, references + 1, references);
            if (seen == references)
                return true;
            references = seen;
        }
        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
            queue.ReturnResident(this);
    }
}
