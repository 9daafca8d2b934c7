using System.Diagnostics.Metrics;
using FastSpool.Delivery.Control;

namespace FastSpool.Delivery.Scheduling;

/// <summary>The queue's instruments: gauges of what is in the queue, and a count of delivery outcomes, one per
/// <c>status=</c> line of the log.</summary>
public sealed partial class QueueManager
{
    /// <summary>Meter name for the queue's instruments (the metrics endpoint and <c>dotnet-counters</c> read them).</summary>
    public const string MeterName = "FastSpool.Queue";

    // A scrape reads the six gauges one after another: one walk of the queue serves them all.
    private static readonly TimeSpan CountersReuse = TimeSpan.FromMilliseconds(100);

    private static readonly KeyValuePair<string, object?> Sent = new("outcome", "sent");
    private static readonly KeyValuePair<string, object?> Deferred = new("outcome", "deferred");
    private static readonly KeyValuePair<string, object?> Bounced = new("outcome", "bounced");
    private static readonly KeyValuePair<string, object?> Expired = new("outcome", "expired");

    private readonly Meter _metrics;
    private readonly Counter<long> _deliveries;
    private volatile ObservedCounters? _observed;

    private Meter CreateMetrics(IMeterFactory? meters)
    {
        Meter meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        meter.CreateObservableGauge("fastspool.queue.messages", () => Observed().Messages, "{message}", "Messages in the queue");
        meter.CreateObservableGauge("fastspool.queue.messages.held", () => Observed().HeldMessages, "{message}", "Messages on hold");
        meter.CreateObservableGauge("fastspool.queue.messages.active", () => Observed().ActiveMessages, "{message}", "Messages being delivered now");
        meter.CreateObservableGauge("fastspool.queue.recipients.pending", () => Observed().PendingRecipients, "{recipient}", "Recipients not tried yet");
        meter.CreateObservableGauge("fastspool.queue.recipients.deferred", () => Observed().DeferredRecipients, "{recipient}", "Recipients waiting for a retry");
        meter.CreateObservableGauge("fastspool.queue.oldest_age", () => Observed().OldestArrival is { } oldest ? (_time.GetUtcNow() - oldest).TotalSeconds : 0,
            unit: "s", description: "Age of the oldest message in the queue");
        return meter;
    }

    private Counter<long> CreateDeliveries() => _metrics.CreateCounter<long>("fastspool.deliveries", "{delivery}",
        "Delivery outcomes, one per status= line of the log: sent (per mailbox), deferred, bounced, expired (bounced after Queue:MaxLifetime)");

    /// <summary>The counters, taken again unless a gauge of the same scrape took them a moment ago.</summary>
    private QueueCounters Observed()
    {
        long now = _time.GetTimestamp();
        if (_observed is { } last && _time.GetElapsedTime(last.Taken, now) < CountersReuse)
            return last.Counters;
        QueueCounters counters = Counters();
        _observed = new ObservedCounters(counters, now);
        return counters;
    }

    private sealed record ObservedCounters(QueueCounters Counters, long Taken);

    /// <summary>Counts one <c>status=</c> line; the tags are cached, so nothing is allocated.</summary>
    private void CountDelivery(KeyValuePair<string, object?> outcome, string transport)
    {
        if (_deliveries.Enabled)
            _deliveries.Add(1, outcome, new KeyValuePair<string, object?>("transport", transport));
    }
}
