using System.Diagnostics.CodeAnalysis;
using BenchmarkDotNet.Attributes;
using FastSpool.Perf.Infrastructure;
using FastSpool.Protocols.Smtp;
using FastSpool.Queue;

namespace FastSpool.Perf.Protocols;

/// <summary>DATA reception: <see cref="MessageTextScanner"/> over a 1 MiB DATA section (78-character lines,
/// ending in <c>CRLF.CRLF</c>), fed in 4 KiB pieces as a socket pipe delivers them, into a reused 256 KiB chunk
/// buffer (the session's queue chunk size) that is emptied whenever it fills. One operation is the whole
/// message; GB/s counts the 1 MiB of input.</summary>
[MemoryDiagnoser]
public class MessageTextScannerBenchmarks
{
    private const int InputPiece = 4096;
    private const int MaxLineLength = 1000; // RFC 5321 §4.5.3.1.6, SmtpOptions.MaxLineLength's default

    private readonly byte[] _chunk = new byte[QueueRecord.MaxChunkBody];
    private byte[] _plain = [];
    private byte[] _dotStuffed = [];

    [GlobalSetup]
    public void Setup()
    {
        _plain = SampleMessages.DataSection(SampleMessages.OneMiB, dotLineEvery: 0);
        _dotStuffed = SampleMessages.DataSection(SampleMessages.OneMiB, dotLineEvery: 4);
    }

    [Benchmark]
    [BytesPerOperation(SampleMessages.OneMiB)]
    public long Plain() => Scan(_plain);

    /// <summary>Every fourth line starts with a stuffed dot.</summary>
    [Benchmark]
    [BytesPerOperation(SampleMessages.OneMiB)]
    public long DotStuffed() => Scan(_dotStuffed);

    private long Scan(ReadOnlySpan<byte> input)
    {
        MessageTextScanner scanner = MessageTextScanner.ForData(MaxLineLength);
        Span<byte> chunk = _chunk;
        long total = 0;
        int filled = 0;
        while (true)
        {
            ReadOnlySpan<byte> piece = input[..Math.Min(InputPiece, input.Length)];
            TextScanStatus status = scanner.Scan(piece, chunk[filled..], out int consumed, out int written);
            input = input[consumed..];
            filled += written;
            switch (status)
            {
                case TextScanStatus.NeedMoreInput:
                    if (input.IsEmpty)
                        return Fail();
                    break;
                case TextScanStatus.OutputFull:
                    total += filled;
                    filled = 0;
                    break;
                case TextScanStatus.EndOfData:
                    return scanner.LineTooLong ? Fail() : total + filled;
                default:
                    return Fail();
            }
        }
    }

    [DoesNotReturn]
    private static long Fail() => throw new InvalidOperationException("the DATA section did not scan as expected");
}
