using System.Buffers;

namespace FastSpool.Queue;

/// <summary>A message body read back from the log: the record buffers (pooled) and one sequence over their bodies.</summary>
public sealed class MessageBody : IDisposable
{
    private readonly IMemoryOwner<byte>[]? _owners;
    private readonly IMemoryOwner<byte>? _owner;

    internal MessageBody(IMemoryOwner<byte>[] owners, ReadOnlySequence<byte> content)
    {
        _owners = owners;
        Content = content;
    }

    /// <summary>A body held by one owner (an in-memory copy): no array for it.</summary>
    internal MessageBody(IMemoryOwner<byte> owner, ReadOnlySequence<byte> content)
    {
        _owner = owner;
        Content = content;
    }

    public ReadOnlySequence<byte> Content { get; }

    public void Dispose()
    {
        _owner?.Dispose();
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
