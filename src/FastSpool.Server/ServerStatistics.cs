using System.Diagnostics;
using System.Globalization;

namespace FastSpool.Server;

/// <summary>Counters behind the periodic <c>statistics:</c> log line: what came in, and what it cost the process.
/// The line is cumulative since start, so two lines give the figures for the time between them (the load harness
/// reads allocated bytes per accepted message that way).</summary>
internal sealed class ServerStatistics
{
    private long _connections;
    private long _accepted;
    private long _acceptedBytes;

    public long Connections => Volatile.Read(ref _connections);

    public long Accepted => Volatile.Read(ref _accepted);

    public void Connected() => Interlocked.Increment(ref _connections);

    public void MessageAccepted(long size)
    {
        Interlocked.Add(ref _acceptedBytes, size);
        Interlocked.Increment(ref _accepted);
    }

    /// <summary><c>statistics: connections=12, accepted=10, accepted_bytes=10240, queued=0, allocated=123456,
    /// gc=3/1/0, rss=81920000, threads=14</c>.</summary>
    public string Format(int queued)
    {
        using Process self = Process.GetCurrentProcess();
        return string.Create(CultureInfo.InvariantCulture,
            $"statistics: connections={Connections}, accepted={Accepted}, accepted_bytes={Volatile.Read(ref _acceptedBytes)}, queued={queued}, " +
            $"allocated={GC.GetTotalAllocatedBytes(precise: true)}, gc={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, " +
            $"rss={self.WorkingSet64}, threads={self.Threads.Count}");
    }
}
