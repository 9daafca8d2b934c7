namespace FastSpool.Queue;

/// <summary>Hands out increasing queue ids, never below one seen in the recovered log.</summary>
public sealed class QueueIdGenerator
{
    private const int CounterBits = 20;
    private ulong _last;

    public QueueIdGenerator(ulong highestRecovered = 0) => _last = highestRecovered;

    public QueueId Next()
    {
        ulong floor = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds() << CounterBits;
        while (true)
        {
            ulong last = Volatile.Read(ref _last);
            ulong next = Math.Max(last + 1, floor);
            if (Interlocked.CompareExchange(ref _last, next, last) == last)
                return new QueueId(next);
        }
    }
}
