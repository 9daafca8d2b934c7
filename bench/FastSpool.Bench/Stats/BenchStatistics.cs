using System.Diagnostics;
using FastSpool.Bench.Smtp;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Bench.Stats;

/// <summary>
/// Counters shared by all sessions. Each message ends in exactly one <see cref="RecordAccepted"/> or
/// <see cref="RecordFailure"/>; latencies go into an array sized for the whole run, sorted once at the end.
/// </summary>
internal sealed class BenchStatistics(int messages)
{
    private readonly long[] _latencies = new long[messages];
    private readonly int[] _byCode = new int[600];
    private readonly int[] _byFailure = new int[5];
    private int _latencyCount;
    private long _accepted;
    private long _acceptedBytes;
    private long _errors;
    private int _withoutPipelining;
    private int _withoutChunking;

    public long Accepted => Volatile.Read(ref _accepted);

    public long AcceptedBytes => Volatile.Read(ref _acceptedBytes);

    public long Errors => Volatile.Read(ref _errors);

    public long Done => Accepted + Errors;

    /// <summary>Connections on which --pipelining was asked for but the server did not offer it.</summary>
    public int WithoutPipelining => Volatile.Read(ref _withoutPipelining);

    /// <summary>Connections on which --bdat was asked for but the server did not offer CHUNKING.</summary>
    public int WithoutChunking => Volatile.Read(ref _withoutChunking);

    public void RecordAccepted(long latencyTicks, int messageBytes)
    {
        int slot = Interlocked.Increment(ref _latencyCount) - 1;
        if (slot < _latencies.Length)
            _latencies[slot] = latencyTicks;
        Interlocked.Add(ref _acceptedBytes, messageBytes);
        Interlocked.Increment(ref _accepted);
    }

    /// <summary>A reply code (100..599) or a <see cref="Failure"/> value.</summary>
    public void RecordFailure(int outcome)
    {
        if (outcome is > 0 and < 600)
            Interlocked.Increment(ref _byCode[outcome]);
        else if (outcome is < 0 and > -5)
            Interlocked.Increment(ref _byFailure[-outcome]);
        else
            Interlocked.Increment(ref _byFailure[-Failure.Protocol]);
        Interlocked.Increment(ref _errors);
    }

    public void NoteMissing(SmtpExtensions capability)
    {
        if (capability == SmtpExtensions.Pipelining)
            Interlocked.Increment(ref _withoutPipelining);
        else if (capability == SmtpExtensions.Chunking)
            Interlocked.Increment(ref _withoutChunking);
    }

    /// <summary>Errors by reply code, then by failure name; only the non-zero ones.</summary>
    public SortedDictionary<string, long> ErrorsByKind()
    {
        var errors = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int code = 0; code < _byCode.Length; code++)
        {
            if (_byCode[code] > 0)
                errors[Failure.Name(code)] = _byCode[code];
        }
        for (int i = 1; i < _byFailure.Length; i++)
        {
            if (_byFailure[i] > 0)
                errors[Failure.Name(-i)] = _byFailure[i];
        }
        return errors;
    }

    /// <summary>Sorts the recorded latencies (call once, after the run) and returns the percentiles in ms.</summary>
    public LatencyReport SummarizeLatencies()
    {
        Span<long> recorded = _latencies.AsSpan(0, Math.Min(_latencyCount, _latencies.Length));
        recorded.Sort();
        return new LatencyReport
        {
            P50 = Milliseconds(Percentiles.NearestRank(recorded, 500)),
            P90 = Milliseconds(Percentiles.NearestRank(recorded, 900)),
            P99 = Milliseconds(Percentiles.NearestRank(recorded, 990)),
            P999 = Milliseconds(Percentiles.NearestRank(recorded, 999)),
            Max = Milliseconds(recorded.IsEmpty ? 0 : recorded[^1]),
        };
    }

    private static double Milliseconds(long ticks) => Math.Round(ticks * 1000.0 / Stopwatch.Frequency, 3);
}
