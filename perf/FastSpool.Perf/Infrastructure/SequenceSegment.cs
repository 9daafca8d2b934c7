using System.Buffers;

namespace FastSpool.Perf.Infrastructure;

/// <summary>Builds a <see cref="ReadOnlySequence{T}"/> over several arrays, as a pipe hands over input that
/// arrived in pieces.</summary>
internal sealed class SequenceSegment : ReadOnlySequenceSegment<byte>
{
    private SequenceSegment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Create(params byte[][] parts)
    {
        var first = new SequenceSegment(parts[0], 0);
        SequenceSegment last = first;
        foreach (byte[] part in parts.AsSpan(1))
        {
            var next = new SequenceSegment(part, last.RunningIndex + last.Memory.Length);
            last.Next = next;
            last = next;
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
