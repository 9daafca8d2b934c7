using System.Diagnostics.Metrics;
using FastSpool.Server.Smtp;

namespace FastSpool.Server;

/// <summary>The server's instruments (meter <c>FastSpool.Server</c>): the figures of the statistics line, read from
/// <see cref="ServerStatistics"/> when a reader asks (nothing is added to a session's path for them), the sessions
/// per listener, and the refusals by command, reply code and enhanced status code.</summary>
internal sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "FastSpool.Server";

    private static readonly KeyValuePair<string, object?>[] Generations = [new("generation", "0"), new("generation", "1"), new("generation", "2")];

    private readonly Meter _meter;
    private readonly Counter<long> _rejects;

    public ServerMetrics(ServerStatistics statistics, IMeterFactory? meters)
    {
        _meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        _meter.CreateObservableCounter("fastspool.smtp.connections", () => PerListener(statistics, l => l.Opened), "{connection}",
            "SMTP sessions since start, per listener (refused connections are counted in fastspool_smtp_rejects_total)");
        _meter.CreateObservableUpDownCounter("fastspool.smtp.connections.open", () => PerListener(statistics, l => l.Open), "{connection}",
            "SMTP sessions open now, per listener");
        _meter.CreateObservableCounter("fastspool.smtp.messages.accepted", () => statistics.Accepted, "{message}",
            "Messages accepted (250 after the commit)");
        _meter.CreateObservableCounter("fastspool.smtp.messages.accepted.bytes", () => statistics.AcceptedBytes, "By",
            "Octets of the messages accepted, as received (the size= of the log)");
        _rejects = _meter.CreateCounter<long>("fastspool.smtp.rejects", "{reply}",
            "Refusals (4xx and 5xx replies to a connection, a command or a message), by command, reply code and enhanced status code");
        _meter.CreateObservableCounter("fastspool.process.allocated", () => ServerStatistics.AllocatedBytes, "By",
            "Bytes the process has allocated since it started");
        _meter.CreateObservableCounter("fastspool.process.gc.collections", Collections, "{collection}",
            "Garbage collections per generation");
        _meter.CreateObservableGauge("fastspool.process.resident", () => ServerStatistics.ProcessUsage().ResidentBytes, "By",
            "Resident memory of the process");
        _meter.CreateObservableGauge("fastspool.process.threads", () => ServerStatistics.ProcessUsage().Threads, "{thread}",
            "Threads of the process");
    }

    /// <summary>Counts a refusal: <paramref name="command"/> as in the log (<c>RCPT</c>, <c>END-OF-MESSAGE</c>,
    /// <c>CONNECT</c>), the codes read from <paramref name="reply"/>.</summary>
    public void Rejected(string command, ReadOnlySpan<byte> reply)
    {
        if (!_rejects.Enabled)
            return;
        (string code, string enhanced) = ReplyTags.Of(reply);
        _rejects.Add(1, new KeyValuePair<string, object?>("command", command), new KeyValuePair<string, object?>("code", code),
            new KeyValuePair<string, object?>("enhanced", enhanced));
    }

    private static IEnumerable<Measurement<long>> PerListener(ServerStatistics statistics, Func<ListenerStatistics, long> value)
    {
        foreach (ListenerStatistics listener in statistics.Listeners)
            yield return new Measurement<long>(value(listener), listener.Tag);
    }

    private static IEnumerable<Measurement<long>> Collections()
    {
        for (int g = 0; g < Generations.Length; g++)
            yield return new Measurement<long>(GC.CollectionCount(g), Generations[g]);
    }

    public void Dispose() => _meter.Dispose();
}
