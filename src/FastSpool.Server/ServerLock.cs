using FastSpool.Posix;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Server;

/// <summary>One FastSpool per data directory (DESIGN invariant 6): an exclusive lock on DataDirectory/fastspool.pid,
/// held for the life of the process (FileShare.None is an flock on Linux, released by the kernel on any exit).</summary>
internal sealed class ServerLock : IDisposable
{
    private readonly FileStream _file;

    private ServerLock(FileStream file) => _file = file;

    public static ServerLock Acquire(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, "fastspool.pid");
        FileStream file;
        try
        {
            file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = PrivateModes.File,
            });
        }
        catch (UnauthorizedAccessException e)
        {
            throw NotWritable(dataDirectory, e, Errno.EACCES);
        }
        catch (IOException e)
        {
            // A lock held by another process, or a file that cannot be opened for writing at all (read-only mount).
            int errno = Libc.Open(path, OpenFlags.ReadWrite | OpenFlags.Create | OpenFlags.CloseOnExec, UnixFileMode.UserRead | UnixFileMode.UserWrite, out SafeFileHandle? writable);
            writable?.Dispose();
            if (errno != 0)
                throw NotWritable(dataDirectory, e, errno);
            // Read past the lock with a plain open(2): .NET's own open would try to share the flock and fail.
            string other = "";
            if (Libc.Open(path, OpenFlags.CloseOnExec, 0, out SafeFileHandle? handle) == 0 && handle is not null)
            {
                using (handle)
                {
                    byte[] content = new byte[32];
                    int read = RandomAccess.Read(handle, content, 0);
                    other = System.Text.Encoding.ASCII.GetString(content, 0, read).Trim();
                }
            }
            throw new ServerStartException(StartFailure.AlreadyRunning, $"another FastSpool (pid {(other.Length > 0 ? other : "unknown")}) is running on the data directory {dataDirectory}", e);
        }
        file.SetLength(0);
        byte[] pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId + "\n");
        file.Write(pid);
        file.Flush(flushToDisk: true);
        return new ServerLock(file);
    }

    private static ServerStartException NotWritable(string dataDirectory, Exception e, int errno) =>
        new(StartFailure.DataDirectoryNotWritable, errno == Errno.EROFS
            ? $"the data directory {dataDirectory} is on a read-only file system"
            : $"the data directory {dataDirectory} is not writable: {Libc.ErrorMessage(errno).ToLowerInvariant()}", e);

    public void Dispose() => _file.Dispose();
}
