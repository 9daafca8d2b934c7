using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using FastSpool.Delivery.Mbox;
using FastSpool.Perf.Infrastructure;
using FastSpool.Queue;

namespace FastSpool.Perf.Delivery;

/// <summary>Rendering one mbox entry as local delivery does: the separator lines, then
/// <see cref="MboxEncoder"/> over a 1 MiB queued message (CRLF lines; six header fields to strip, one of them
/// folded; every 20th body line starting with <c>From </c>), fed in 256 KiB pieces as the message's queue chunks
/// come back, into a reused <see cref="ArrayBufferWriter{T}"/>. GB/s counts the 1 MiB of input.</summary>
[MemoryDiagnoser]
public class MboxEncoderBenchmarks
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 17, 19, 20, TimeSpan.Zero);

    private readonly ArrayBufferWriter<byte> _output = new(2 * SampleMessages.OneMiB);
    private readonly byte[] _sender = Encoding.ASCII.GetBytes("bob@example.org");
    private readonly byte[] _recipient = Encoding.ASCII.GetBytes("alice@example.org");
    private byte[] _message = [];

    [GlobalSetup]
    public void Setup() => _message = SampleMessages.QueuedMessage(SampleMessages.OneMiB, fromLineEvery: 20);

    [Benchmark]
    [BytesPerOperation(SampleMessages.OneMiB)]
    public int Encode()
    {
        _output.ResetWrittenCount();
        Span<byte> separator = _output.GetSpan(MboxEncoder.GetSeparatorLength(_sender, _recipient));
        _output.Advance(MboxEncoder.WriteSeparator(separator, _sender, _recipient, Now));

        var encoder = new MboxEncoder();
        ReadOnlySpan<byte> input = _message;
        while (!input.IsEmpty)
        {
            int piece = Math.Min(QueueRecord.MaxChunkBody, input.Length);
            encoder.Encode(input[..piece], _output);
            input = input[piece..];
        }
        encoder.Finish(_output);
        return _output.WrittenCount;
    }
}
