namespace FastSpool.Bench.Stats;

internal static class Percentiles
{
    /// <summary>
    /// The nearest-rank percentile of ascending <paramref name="sorted"/>: the smallest value with at least
    /// <paramref name="perMille"/>/1000 of the values at or below it (p99.9 is 999). Integer arithmetic, so p99.9
    /// of 1000 values is exactly the 999th. 0 for no values.
    /// </summary>
    public static long NearestRank(ReadOnlySpan<long> sorted, int perMille)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perMille);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(perMille, 1000);
        if (sorted.IsEmpty)
            return 0;
        long rank = ((long)perMille * sorted.Length + 999) / 1000;
        return sorted[(int)Math.Max(rank, 1) - 1];
    }
}
