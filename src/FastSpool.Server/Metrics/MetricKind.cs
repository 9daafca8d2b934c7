namespace FastSpool.Server.Metrics;

/// <summary>The OpenMetrics types the instruments map to.</summary>
internal enum MetricKind
{
    /// <summary>Counter and ObservableCounter: a sum since start, sampled as <c>name_total</c>.</summary>
    Counter,

    /// <summary>Gauges and up-down counters: a value now.</summary>
    Gauge,

    /// <summary>Histogram: cumulative buckets, <c>_bucket{le=...}</c>, <c>_count</c> and <c>_sum</c>.</summary>
    Histogram,
}
