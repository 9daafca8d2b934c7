using System.Runtime.InteropServices;

namespace FastSpool.Bench.Posix;

/// <summary>The few libc calls the generator needs (Linux, 64-bit: rlim_t is 8 bytes).</summary>
internal static partial class Libc
{
    private const string Library = "libc";
    private const int RlimitNofile = 7;
    private const int ScClkTck = 2;

    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    /// <summary>Clock ticks per second, the unit of utime and stime in /proc/PID/stat.</summary>
    public static long ClockTicksPerSecond()
    {
        long ticks = OperatingSystem.IsLinux() ? SysConf(ScClkTck) : -1;
        return ticks > 0 ? ticks : 100;
    }

    /// <summary>
    /// Raises the soft open-file limit towards <paramref name="wanted"/> (at most the hard limit) and returns the
    /// soft limit now in force, or -1 when it cannot be read.
    /// </summary>
    public static long RaiseOpenFileLimit(long wanted)
    {
        if (!OperatingSystem.IsLinux() || GetRlimit(RlimitNofile, out Rlimit limit) != 0)
            return -1;
        if (limit.Current >= (ulong)wanted)
            return (long)Math.Min(limit.Current, long.MaxValue);
        var raised = new Rlimit { Current = Math.Min((ulong)wanted, limit.Maximum), Maximum = limit.Maximum };
        if (SetRlimit(RlimitNofile, in raised) != 0)
            return (long)Math.Min(limit.Current, long.MaxValue);
        return (long)raised.Current;
    }

    [LibraryImport(Library, EntryPoint = "sysconf")]
    private static partial long SysConf(int name);

    [LibraryImport(Library, EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRlimit(int resource, out Rlimit limit);

    [LibraryImport(Library, EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRlimit(int resource, in Rlimit limit);
}
