namespace FastSpool.Perf.Infrastructure;

/// <summary>How many input bytes one operation of the benchmark processes; <see cref="ThroughputColumn"/> turns
/// it into GB/s.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class BytesPerOperationAttribute(long bytes) : Attribute
{
    public long Bytes { get; } = bytes;
}
