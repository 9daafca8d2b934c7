using FastSpool.Posix;

namespace FastSpool.Users;

/// <summary>An exclusive lock between processes: a lock file opened with <see cref="FileShare.None"/>, which .NET
/// takes as a non-blocking flock(2) on Unix. The lock is held until the returned stream is disposed.</summary>
internal static class FileLock
{
    /// <exception cref="TimeoutException">Another process held the lock for all of <paramref name="timeout"/>.</exception>
    public static FileStream Acquire(string path, TimeSpan timeout)
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = PrivateModes.File;
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        int delayMs = 1;
        while (true)
        {
            try
            {
                return new FileStream(path, options);
            }
            catch (IOException e) when (IsHeldElsewhere(e))
            {
                if (Environment.TickCount64 >= deadline)
                    throw new TimeoutException($"'{path}' stayed locked by another process for {timeout.TotalSeconds:0} s", e);
                // flock(LOCK_NB) cannot wait; back off briefly. Writers are rare and hold the lock for milliseconds.
                Thread.Sleep(delayMs);
                delayMs = Math.Min(delayMs * 2, 50);
            }
        }
    }

    private static bool IsHeldElsewhere(IOException e) =>
        e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
        && (OperatingSystem.IsWindows() ? e.HResult == unchecked((int)0x80070020) : e.HResult == Errno.EAGAIN);
}
