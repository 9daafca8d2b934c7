namespace FastSpool.Server.Metrics;

/// <summary>One label set of an instrument and its value: a long or a double, or a histogram's buckets. Written to
/// with interlocked operations by the threads that measure, read at a scrape.</summary>
internal sealed class MetricSeries
{
    private readonly KeyValuePair<string, string>[] _labels;
    private readonly double[]? _bounds;
    private readonly long[]? _buckets;
    private long _integer;
    private double _real;
    private long _count;

    public MetricSeries(ReadOnlySpan<KeyValuePair<string, object?>> tags, double[]? bounds)
    {
        _labels = new KeyValuePair<string, string>[tags.Length];
        for (int i = 0; i < tags.Length; i++)
            _labels[i] = new(tags[i].Key, tags[i].Value?.ToString() ?? "");
        Array.Sort(_labels, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        _bounds = bounds;
        _buckets = bounds is null ? null : new long[bounds.Length + 1];
    }

    /// <summary>The labels in key order.</summary>
    public ReadOnlySpan<KeyValuePair<string, string>> Labels => _labels;

    public long Integer => Volatile.Read(ref _integer);

    public double Real => Volatile.Read(ref _real);

    public long Count => Volatile.Read(ref _count);

    /// <summary>The count of observations up to bucket <paramref name="index"/>'s bound, that bound included.</summary>
    public long CumulativeCount(int index)
    {
        long sum = 0;
        for (int i = 0; i <= index; i++)
            sum += Volatile.Read(ref _buckets![i]);
        return sum;
    }

    /// <summary>Whether <paramref name="tags"/> are this series' labels, in any order. Tag values are strings made
    /// once by the instrument's owner, so the comparison is mostly by reference.</summary>
    public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length != _labels.Length)
            return false;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (!Has(tag))
                return false;
        }
        return true;
    }

    private bool Has(KeyValuePair<string, object?> tag)
    {
        foreach (KeyValuePair<string, string> label in _labels)
        {
            if (string.Equals(label.Key, tag.Key, StringComparison.Ordinal))
                return tag.Value is string s ? string.Equals(label.Value, s, StringComparison.Ordinal) : label.Value == (tag.Value?.ToString() ?? "");
        }
        return false;
    }

    public void Add(long value) => Interlocked.Add(ref _integer, value);

    public void Set(long value) => Volatile.Write(ref _integer, value);

    public void Set(double value) => Volatile.Write(ref _real, value);

    public void Add(double value)
    {
        double seen = Volatile.Read(ref _real);
        while (true)
        {
            double found = Interlocked.CompareExchange(ref _real, seen + value, seen);
            if (found.Equals(seen))
                return;
            seen = found;
        }
    }

    /// <summary>One observation of a histogram: its bucket, the count and the sum.</summary>
    public void Observe(double value)
    {
        double[] bounds = _bounds!;
        int i = 0;
        while (i < bounds.Length && value > bounds[i])
            i++;
        Interlocked.Increment(ref _buckets![i]);
        Interlocked.Increment(ref _count);
        Add(value);
    }
}
