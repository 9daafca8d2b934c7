using System.Diagnostics.Metrics;
using System.Numerics;

namespace FastSpool.Server.Metrics;

/// <summary>One instrument as an OpenMetrics family: its name in OpenMetrics form (<c>fastspool.queue.oldest_age</c>
/// in seconds is <c>fastspool_queue_oldest_age_seconds</c>), its type, and its series.</summary>
internal sealed class MetricFamily
{
    /// <summary>Bounds for a histogram whose instrument gives none, in its unit (Prometheus's defaults).</summary>
    private static readonly double[] DefaultBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Lock _adding = new();
    private readonly double[]? _bounds;
    private readonly bool _integer;
    private volatile MetricSeries[] _series = [];
    private volatile bool _retired;

    public MetricFamily(Instrument instrument, MetricKind kind)
    {
        Kind = kind;
        Observed = instrument.IsObservable;
        (Unit, Name) = OpenMetricsName(instrument.Name, instrument.Unit);
        Help = instrument.Description ?? "";
        _integer = instrument.GetType().GetGenericArguments() is [Type t] && (t == typeof(long) || t == typeof(int));
        if (kind == MetricKind.Histogram)
            _bounds = instrument is Histogram<double> { Advice.HistogramBucketBoundaries: { } advised } ? [.. advised] : DefaultBounds;
    }

    public string Name { get; }

    /// <summary>The unit as an OpenMetrics name suffix (<c>seconds</c>, <c>bytes</c>), or null.</summary>
    public string? Unit { get; }

    public string Help { get; }

    public MetricKind Kind { get; }

    /// <summary>An observable instrument: each reading is the value, not an increment.</summary>
    public bool Observed { get; }

    /// <summary>The instrument's meter was disposed: no more values, and none written.</summary>
    public bool Retired => _retired;

    public void Retire() => _retired = true;

    /// <summary>The kind of an instrument the endpoint publishes; null for one it does not know.</summary>
    public static MetricKind? KindOf(Instrument instrument)
    {
        if (!instrument.GetType().IsGenericType)
            return null;
        Type definition = instrument.GetType().GetGenericTypeDefinition();
        if (definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>))
            return MetricKind.Counter;
        if (definition == typeof(Histogram<>))
            return MetricKind.Histogram;
        if (definition == typeof(ObservableGauge<>) || definition == typeof(Gauge<>) || definition == typeof(UpDownCounter<>)
            || definition == typeof(ObservableUpDownCounter<>))
            return MetricKind.Gauge;
        return null;
    }

    /// <summary>Dots become underscores; a unit of seconds or bytes is added as a suffix (once).</summary>
    public static (string? Unit, string Name) OpenMetricsName(string instrument, string? unit)
    {
        string name = instrument.Replace('.', '_').Replace('-', '_');
        string? suffix = unit switch { "s" => "seconds", "By" => "bytes", _ => null };
        if (suffix is not null && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
            name += "_" + suffix;
        return (suffix, name);
    }

    /// <summary>One measurement: JIT-compiled per number type, so nothing is boxed.</summary>
    public void Record<T>(T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct, INumber<T>
    {
        MetricSeries series = Find(tags);
        if (Kind == MetricKind.Histogram)
            series.Observe(double.CreateTruncating(value));
        else if (_integer && Observed)
            series.Set(long.CreateTruncating(value));
        else if (_integer)
            series.Add(long.CreateTruncating(value));
        else if (Observed)
            series.Set(double.CreateTruncating(value));
        else
            series.Add(double.CreateTruncating(value));
    }

    private MetricSeries Find(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (MetricSeries series in _series)
        {
            if (series.Matches(tags))
                return series;
        }
        lock (_adding)
        {
            foreach (MetricSeries series in _series)
            {
                if (series.Matches(tags))
                    return series;
            }
            var added = new MetricSeries(tags, _bounds);
            _series = [.. _series, added];
            return added;
        }
    }

    public void WriteTo(OpenMetricsWriter writer)
    {
        writer.Family(Name, Kind, Unit, Help);
        MetricSeries[] all = [.. _series];
        Array.Sort(all, static (a, b) => Compare(a.Labels, b.Labels));
        foreach (MetricSeries series in all)
        {
            if (Kind == MetricKind.Histogram)
            {
                for (int i = 0; i < _bounds!.Length; i++)
                    writer.Bucket(Name, series.Labels, _bounds[i], series.CumulativeCount(i));
                long count = series.CumulativeCount(_bounds.Length);
                writer.Bucket(Name, series.Labels, double.PositiveInfinity, count);
                writer.Sample(Name, "_count", series.Labels, count);
                writer.Sample(Name, "_sum", series.Labels, series.Real);
            }
            else if (_integer)
                writer.Sample(Name, Kind == MetricKind.Counter ? "_total" : "", series.Labels, series.Integer);
            else
                writer.Sample(Name, Kind == MetricKind.Counter ? "_total" : "", series.Labels, series.Real);
        }
    }

    private static int Compare(ReadOnlySpan<KeyValuePair<string, string>> a, ReadOnlySpan<KeyValuePair<string, string>> b)
    {
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            int c = string.CompareOrdinal(a[i].Key, b[i].Key);
            if (c == 0)
                c = string.CompareOrdinal(a[i].Value, b[i].Value);
            if (c != 0)
                return c;
        }
        return a.Length.CompareTo(b.Length);
    }
}
