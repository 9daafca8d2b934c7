using System.Globalization;

namespace FastSpool.Bench.Posix;

/// <summary>
/// Reads a server process's CPU time (<c>/proc/PID/stat</c>: utime + stime) and resident size
/// (<c>/proc/PID/status</c>: VmRSS), keeping the largest RSS seen by <see cref="PollRss"/>.
/// </summary>
internal sealed class ServerProbe
{
    private readonly string _statPath;
    private readonly string _statusPath;
    private readonly double? _cpuAtStart;
    private readonly long _ticksPerSecond = Libc.ClockTicksPerSecond();

    public ServerProbe(int pid)
    {
        _statPath = $"/proc/{pid}/stat";
        _statusPath = $"/proc/{pid}/status";
        _cpuAtStart = CpuSeconds();
        PollRss();
    }

    public bool Found => _cpuAtStart is not null;

    public long? PeakRssKb { get; private set; }

    /// <summary>CPU seconds the process used since the probe was made.</summary>
    public double? CpuSecondsUsed() => CpuSeconds() - _cpuAtStart;

    public void PollRss()
    {
        long? rss = ReadRssKb();
        if (rss > (PeakRssKb ?? 0))
            PeakRssKb = rss;
    }

    public double? CpuSeconds()
    {
        string? stat = ReadText(_statPath);
        return stat is null ? null : ParseCpuTicks(stat) / (double)_ticksPerSecond;
    }

    /// <summary>utime + stime, fields 14 and 15 of <c>/proc/PID/stat</c>; counted after the ")" that ends the command name, which may hold spaces.</summary>
    public static long ParseCpuTicks(string stat)
    {
        int close = stat.LastIndexOf(')');
        string[] fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state), so field N is fields[N - 3].
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>The kB of the <c>VmRSS:</c> line of <c>/proc/PID/status</c>.</summary>
    public static long? ParseRssKb(string status)
    {
        foreach (string line in status.Split('\n'))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal))
                continue;
            string[] parts = line[6..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return parts.Length > 0 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kb) ? kb : null;
        }
        return null;
    }

    private long? ReadRssKb()
    {
        string? status = ReadText(_statusPath);
        return status is null ? null : ParseRssKb(status);
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
