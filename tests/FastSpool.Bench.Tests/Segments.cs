using System.Buffers;

namespace FastSpool.Bench.Tests;

/// <summary>Builds multi-segment sequences to test parsers across buffer boundaries.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Of(params byte[][] pieces)
    {
        var first = new Segments(pieces[0], 0);
        Segments last = first;
        for (int i = 1; i < pieces.Length; i++)
        {
            var next = new Segments(pieces[i], last.RunningIndex + last.Memory.Length);
            last.Next = next;
            last = next;
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary><paramref name="bytes"/> split at <paramref name="at"/> (two segments, the first possibly empty).</summary>
    public static ReadOnlySequence<byte> SplitAt(byte[] bytes, int at) => Of(bytes[..at], bytes[at..]);

    /// <summary>One segment per byte.</summary>
    public static ReadOnlySequence<byte> Bytewise(byte[] bytes) =>
        bytes.Length == 0 ? ReadOnlySequence<byte>.Empty : Of(bytes.Select(b => new[] { b }).ToArray());
}
