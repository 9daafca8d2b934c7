using System.Diagnostics.Metrics;
using FastSpool.Metrics;

namespace FastSpool.Server.Metrics;

/// <summary>Listens to the instruments of one server (those its <see cref="ServerMeterFactory"/> made) and keeps their
/// values for the metrics endpoint: sums for counters, last values for observed ones, bucket counts for histograms.
/// A measurement finds its series among the few its instrument has and adds to it with an interlocked operation; only
/// the first measurement of a new label set allocates. Observed instruments are read at each scrape.</summary>
internal sealed class MetricsCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ServerMeterFactory _meters;
    private readonly Lock _families = new();
    private readonly List<MetricFamily> _published = [];
    private readonly Lock _scrape = new();

    public MetricsCollector(ServerMeterFactory meters)
    {
        _meters = meters;
        _listener.InstrumentPublished = Published;
        _listener.MeasurementsCompleted = static (_, state) => ((MetricFamily)state!).Retire();
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.Start();
    }

    private void Published(Instrument instrument, MeterListener listener)
    {
        if (!_meters.Owns(instrument.Meter) || MetricFamily.KindOf(instrument) is not { } kind)
            return;
        var family = new MetricFamily(instrument, kind);
        lock (_families)
            _published.Add(family);
        listener.EnableMeasurementEvents(instrument, family);
    }

    /// <summary>Reads the observed instruments, then writes every family in name order.</summary>
    public void WriteTo(OpenMetricsWriter writer)
    {
        lock (_scrape)
        {
            _listener.RecordObservableInstruments();
            List<MetricFamily> families;
            lock (_families)
                families = _published.FindAll(f => !f.Retired);
            families.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            foreach (MetricFamily family in families)
                family.WriteTo(writer);
            writer.End();
        }
    }

    public void Dispose() => _listener.Dispose();
}
