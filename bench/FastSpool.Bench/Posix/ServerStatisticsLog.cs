using System.Globalization;
using System.Text;

namespace FastSpool.Bench.Posix;

/// <summary>One <c>statistics:</c> line of FastSpool's log: cumulative counters since the server started.</summary>
internal readonly record struct ServerStatistics(string Time, long Accepted, long Allocated);

/// <summary>
/// Reads the newest <c>statistics:</c> line from a FastSpool log file (the server writes one every
/// <c>StatisticsInterval</c>). Two lines around a run give the server's allocated bytes per accepted message:
/// the counters are cumulative, so the difference covers the run and nothing else sent in between.
/// </summary>
internal sealed class ServerStatisticsLog(string path)
{
    private const int TailBytes = 256 * 1024;

    public string Path { get; } = path;

    /// <summary>The last statistics line in the file, or null when there is none (yet).</summary>
    public ServerStatistics? ReadLast()
    {
        string tail;
        try
        {
            using var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long start = Math.Max(0, file.Length - TailBytes);
            file.Position = start;
            byte[] buffer = new byte[file.Length - start];
            file.ReadExactly(buffer);
            tail = Encoding.UTF8.GetString(buffer);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        string[] lines = tail.Split('\n');
        for (int i = lines.Length - 1; i >= 0; i--)
        {
            if (TryParse(lines[i], out ServerStatistics statistics))
                return statistics;
        }
        return null;
    }

    /// <summary>Waits for a statistics line other than <paramref name="after"/> (a newer one), polling the file.</summary>
    public async Task<ServerStatistics?> WaitForNewAsync(ServerStatistics? after, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            ServerStatistics? last = ReadLast();
            if (last is not null && last != after)
                return last;
            if (Environment.TickCount64 >= deadline)
                return null;
            await Task.Delay(50);
        }
    }

    /// <summary><c>2026-11-24T19:27:30.681Z fastspool info: statistics: connections=10000, accepted=10000, ...
    /// allocated=240338088, ...</c></summary>
    public static bool TryParse(string line, out ServerStatistics statistics)
    {
        statistics = default;
        int at = line.IndexOf(" statistics: ", StringComparison.Ordinal);
        if (at < 0)
            return false;
        long? accepted = null, allocated = null;
        foreach (string pair in line[(at + 13)..].Split(", "))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !long.TryParse(pair.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                continue;
            switch (pair[..eq])
            {
                case "accepted":
                    accepted = value;
                    break;
                case "allocated":
                    allocated = value;
                    break;
            }
        }
        if (accepted is null || allocated is null)
            return false;
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        statistics = new ServerStatistics(space > 0 ? line[..space] : "", accepted.Value, allocated.Value);
        return true;
    }
}
