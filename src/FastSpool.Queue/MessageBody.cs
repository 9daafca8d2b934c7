using System.Buffers;

namespace FastSpool.Queue;

/// <summary>A message body read back from the log: the record buffers (pooled) and one sequence over their bodies.</summary>
public sealed class MessageBody : IDisposable
{
    private readonly IMemoryOwner<byte>[]? _owners;
    private ResidentCopy? _resident;

    internal MessageBody(IMemoryOwner<byte>[] owners, ReadOnlySequence<byte> content)
    {
        _owners = owners;
        Content = content;
    }

    /// <summary>A body read from the message's in-memory copy, holding one reference to it (taken by the caller).</summary>
    internal MessageBody(ResidentCopy resident, ReadOnlySequence<byte> content)
    {
        _resident = resident;
        Content = content;
    }

    public ReadOnlySequence<byte> Content { get; }

    public void Dispose()
    {
        Interlocked.Exchange(ref _resident, null)?.Release();
        foreach (IMemoryOwner<byte> owner in _owners ?? [])
            owner.Dispose();
    }

    internal static ReadOnlySequence<byte> Join(ReadOnlyMemory<byte>[] parts)
    {
        if (parts.Length == 1)
            return new ReadOnlySequence<byte>(parts[0]);
        Segment first = new(parts[0], 0);
        Segment last = first;
        for (int i = 1; i < parts.Length; i++)
            last = last.Append(parts[i]);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
