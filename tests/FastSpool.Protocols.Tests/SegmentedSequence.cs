using System.Buffers;

namespace FastSpool.Protocols.Tests;

/// <summary>Builds multi-segment sequences, as a pipe hands them over.</summary>
internal sealed class SegmentedSequence : ReadOnlySequenceSegment<byte>
{
    private SegmentedSequence(ReadOnlyMemory<byte> memory) => Memory = memory;

    public static ReadOnlySequence<byte> Create(params ReadOnlyMemory<byte>[] parts)
    {
        if (parts.Length == 0)
            return ReadOnlySequence<byte>.Empty;
        var first = new SegmentedSequence(parts[0]);
        SegmentedSequence last = first;
        for (int i = 1; i < parts.Length; i++)
        {
            var next = new SegmentedSequence(parts[i]) { RunningIndex = last.RunningIndex + last.Memory.Length };
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Splits <paramref name="data"/> at the given offsets (copies, so no segment shares memory).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] offsets)
    {
        var parts = new ReadOnlyMemory<byte>[offsets.Length + 1];
        int start = 0;
        for (int i = 0; i <= offsets.Length; i++)
        {
            int end = i < offsets.Length ? offsets[i] : data.Length;
            parts[i] = data.AsSpan(start, end - start).ToArray();
            start = end;
        }

        return Create(parts);
    }
}
