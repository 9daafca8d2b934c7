using System.Buffers;

namespace FastSpool.Queue;

/// <summary>The message buffers of sessions receiving mail: all of one size (a queue chunk plus room for the
/// envelope), kept for reuse up to <see cref="Kept"/> of them. <see cref="ArrayPool{T}.Shared"/> keeps only a
/// few arrays of a size per core, so with dozens of sessions in DATA at once most of these half-megabyte rents
/// were fresh allocations.</summary>
internal static class ChunkBufferPool
{
    /// <summary>Buffers kept at most (about 67 MiB); beyond that a returned buffer is left to the collector.</summary>
    internal const int Kept = 256;

    public static readonly int BufferSize = QueueRecord.HeaderSize + QueueRecord.MaxChunkBody + 4096;

    private static readonly BoundedPool<byte[]> Pool = new(() => GC.AllocateUninitializedArray<byte>(BufferSize), Kept);

    public static byte[] Rent() => Pool.Rent();

    /// <summary>Takes back a buffer from <see cref="Rent"/>; a larger one (an envelope that outgrew it) goes back
    /// to the shared pool it came from.</summary>
    public static void Return(byte[] buffer)
    {
        if (buffer.Length == BufferSize)
            Pool.Return(buffer);
        else
            ArrayPool<byte>.Shared.Return(buffer);
    }
}
