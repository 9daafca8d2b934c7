using System.Diagnostics.Metrics;
using FastSpool.Delivery.Control;

namespace FastSpool.Delivery.Scheduling;

/// <summary>The queue's instruments: gauges of what is in the queue, and a count of delivery outcomes, one per
/// <c>status=</c> line of the log.</summary>
public sealed partial class QueueManager
{
    /// <summary>Meter name for the queue's instruments (the metrics endpoint and <c>dotnet-counters</c> read them).</summary>
    public const string MeterName = "FastSpool.Queue";

    private static readonly KeyValuePair<string, object?> Sent = new("outcome", "sent");
    private static readonly KeyValuePair<string, object?> Deferred = new("outcome", "deferred");
    private static readonly KeyValuePair<string, object?> Bounced = new("outcome", "bounced");
    private static readonly KeyValuePair<string, object?> Expired = new("outcome", "expired");

    private readonly Meter _metrics;
    private readonly Counter<long> _deliveries;

    private Meter CreateMetrics(IMeterFactory? meters)
    {
        Meter meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        meter.CreateObservableGauge("fastspool.queue.messages", () => Counters().Messages, "{message}", "Messages in the queue");
        meter.CreateObservableGauge("fastspool.queue.messages.held", () => Counters().HeldMessages, "{message}", "Messages on hold");
        meter.CreateObservableGauge("fastspool.queue.messages.active", () => Counters().ActiveMessages, "{message}", "Messages being delivered now");
        meter.CreateObservableGauge("fastspool.queue.recipients.pending", () => Counters().PendingRecipients, "{recipient}", "Recipients not tried yet");
        meter.CreateObservableGauge("fastspool.queue.recipients.deferred", () => Counters().DeferredRecipients, "{recipient}", "Recipients waiting for a retry");
        meter.CreateObservableGauge("fastspool.queue.oldest_age", () => Counters().OldestArrival is { } oldest ? (_time.GetUtcNow() - oldest).TotalSeconds : 0,
            unit: "s", description: "Age of the oldest message in the queue");
        return meter;
    }

    private Counter<long> CreateDeliveries() => _metrics.CreateCounter<long>("fastspool.deliveries", "{delivery}",
        "Delivery outcomes, one per status= line of the log: sent (per mailbox), deferred, bounced, expired (bounced after Queue:MaxLifetime)");

    /// <summary>Counts one <c>status=</c> line; the tags are cached, so nothing is allocated.</summary>
    private void CountDelivery(KeyValuePair<string, object?> outcome, string transport)
    {
        if (_deliveries.Enabled)
            _deliveries.Add(1, outcome, new KeyValuePair<string, object?>("transport", transport));
    }
}
