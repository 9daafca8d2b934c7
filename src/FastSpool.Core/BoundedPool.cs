using System.Collections.Concurrent;

namespace FastSpool;

/// <summary>Objects kept for reuse across threads, at most <c>capacity</c> of them; beyond that a returned object
/// is left to the garbage collector. For per-connection and per-message state that hot paths would otherwise
/// allocate each time (<see cref="System.Buffers.ArrayPool{T}.Shared"/> keeps only a few arrays of a size per core).</summary>
public sealed class BoundedPool<T>(Func<T> create, int capacity) where T : class
{
    private readonly ConcurrentQueue<T> _items = new();
    private int _count;

    public T Rent()
    {
        if (_items.TryDequeue(out T? item))
        {
            Interlocked.Decrement(ref _count);
            return item;
        }
        return create();
    }

    /// <summary>Takes <paramref name="item"/> back; the caller must not use it afterwards.</summary>
    public void Return(T item)
    {
        if (Interlocked.Increment(ref _count) <= capacity)
            _items.Enqueue(item);
        else
            Interlocked.Decrement(ref _count);
    }
}
