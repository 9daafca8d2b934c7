namespace FastSpool.Bench.Stats;

/// <summary>From the end of the message (final dot or BDAT LAST chunk written) to its reply, in milliseconds.</summary>
internal sealed class LatencyReport
{
    public double P50 { get; init; }
    public double P90 { get; init; }
    public double P99 { get; init; }
    public double P999 { get; init; }
    public double Max { get; init; }
}
