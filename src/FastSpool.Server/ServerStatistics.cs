using System.Diagnostics;
using System.Globalization;

namespace FastSpool.Server;

/// <summary>Counters behind the periodic <c>statistics:</c> log line and the metrics endpoint: what came in, and what
/// it cost the process. The line is cumulative since start, so two lines give the figures for the time between them
/// (the load harness reads allocated bytes per accepted message that way).</summary>
internal sealed class ServerStatistics
{
    private readonly List<ListenerStatistics> _listeners = [];
    private long _accepted;
    private long _acceptedBytes;

    /// <summary>The SMTP listeners, added at start before any session.</summary>
    public IReadOnlyList<ListenerStatistics> Listeners => _listeners;

    /// <summary>SMTP sessions since start, on every listener.</summary>
    public long Connections
    {
        get
        {
            long sum = 0;
            foreach (ListenerStatistics listener in _listeners)
                sum += listener.Opened;
            return sum;
        }
    }

    public long Accepted => Volatile.Read(ref _accepted);

    public long AcceptedBytes => Volatile.Read(ref _acceptedBytes);

    public ListenerStatistics AddListener(string name)
    {
        var listener = new ListenerStatistics(name);
        _listeners.Add(listener);
        return listener;
    }

    public void MessageAccepted(long size)
    {
        Interlocked.Add(ref _acceptedBytes, size);
        Interlocked.Increment(ref _accepted);
    }

    /// <summary>Bytes the process has allocated since it started.</summary>
    public static long AllocatedBytes => GC.GetTotalAllocatedBytes(precise: true);

    /// <summary>The process's resident memory and threads (the operating system's view).</summary>
    public static (long ResidentBytes, int Threads) ProcessUsage()
    {
        using Process self = Process.GetCurrentProcess();
        return (self.WorkingSet64, self.Threads.Count);
    }

    /// <summary><c>statistics: connections=12, accepted=10, accepted_bytes=10240, queued=0, allocated=123456,
    /// gc=3/1/0, rss=81920000, threads=14</c>.</summary>
    public string Format(int queued)
    {
        (long rss, int threads) = ProcessUsage();
        return string.Create(CultureInfo.InvariantCulture,
            $"statistics: connections={Connections}, accepted={Accepted}, accepted_bytes={AcceptedBytes}, queued={queued}, " +
            $"allocated={AllocatedBytes}, gc={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, " +
            $"rss={rss}, threads={threads}");
    }
}
