using BenchmarkDotNet.Attributes;
using FastSpool.Perf.Infrastructure;

namespace FastSpool.Perf.Core;

/// <summary><see cref="Crc32C.Compute(ReadOnlySpan{byte})"/> over 1 MiB: the checksum of every queue record and
/// of every mailbox append.</summary>
[MemoryDiagnoser]
public class Crc32CBenchmarks
{
    private byte[] _data = [];

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[SampleMessages.OneMiB];
        new Random(42).NextBytes(_data);
    }

    [Benchmark]
    [BytesPerOperation(SampleMessages.OneMiB)]
    public uint Compute() => Crc32C.Compute(_data);
}
