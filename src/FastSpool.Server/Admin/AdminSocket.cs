using System.Text;
using FastSpool.Posix;
using Microsoft.Extensions.Hosting;

namespace FastSpool.Server.Admin;

/// <summary>The admin endpoint's socket, <c>DataDirectory/control.sock</c>, mode 0600 from the first moment anyone
/// can reach it (and, with another mode, the sendmail submission socket, 0666, published the same way). bind(2) creates a socket file with the umask's mode, so Kestrel binds it inside a private 0700
/// directory; once bound it is made 0600 and renamed into place (rename also replaces, atomically, a socket left
/// by a killed server). The server's lock on the data directory proves that such a socket is stale. Stopping
/// removes the socket first, so that clients hear "not running" rather than wait on a closing server.</summary>
internal sealed class AdminSocket : IHostedLifecycleService
{
    public const UnixFileMode SocketMode = PrivateModes.File;

    // sun_path holds 108 bytes with the terminating NUL.
    private const int MaxSocketPathBytes = 107;

    private readonly string _bindDirectory;
    private readonly UnixFileMode _mode;
    private readonly string _what;

    public AdminSocket(string path, UnixFileMode mode = SocketMode)
    {
        Path = path;
        _mode = mode;
        _what = mode == SocketMode ? "the control socket" : "the submission socket";
        _bindDirectory = Path + ".bind";
        BindPath = System.IO.Path.Combine(_bindDirectory, "s");
        foreach (string p in (ReadOnlySpan<string>)[Path, BindPath])
        {
            if (Encoding.UTF8.GetByteCount(p) > MaxSocketPathBytes)
                throw new InvalidOperationException($"{(mode == SocketMode ? "DataDirectory: " : "Sendmail:Socket: ")}{_what} path {p} is longer than a Unix socket path may be ({MaxSocketPathBytes} bytes); choose a shorter {(mode == SocketMode ? "DataDirectory" : "Sendmail:Socket")}");
        }
    }

    /// <summary>Where clients connect.</summary>
    public string Path { get; }

    /// <summary>Where Kestrel binds, inside the private directory.</summary>
    public string BindPath { get; }

    /// <summary>Before Kestrel binds: clears what a killed server left and makes the private directory.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        RemoveStale(Path, directoryToo: false, _what);
        RemoveStale(_bindDirectory, directoryToo: true, _what);
        // mkdir fails if the name appeared since: the directory is ours and new, not one planted under that name.
        int errno = Libc.MkDir(_bindDirectory, PrivateModes.Directory);
        if (errno != 0)
            Libc.ThrowIO(_bindDirectory, "mkdir", errno);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After Kestrel has bound (every hosted service has started): 0600, then the public name.</summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        File.SetUnixFileMode(BindPath, _mode);
        int errno = Libc.Rename(BindPath, Path);
        if (errno != 0)
            Libc.ThrowIO(Path, "rename", errno);
        Directory.Delete(_bindDirectory);
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        RemoveStale(Path, directoryToo: false, _what);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Removes what is at <paramref name="path"/> (a symbolic link itself, not its target). A directory
    /// where the socket belongs is not something we leave behind: refused.</summary>
    private static void RemoveStale(string path, bool directoryToo, string what)
    {
        int errno = Libc.LStat(path, out UnixFileStatus status);
        if (errno == Errno.ENOENT)
            return;
        if (errno != 0)
            Libc.ThrowIO(path, "lstat", errno);
        if (status.Type == UnixFileType.Directory)
        {
            if (!directoryToo)
                throw new InvalidOperationException($"{path} is a directory; {what} needs that name");
            // Only ours is removed: the submission socket may live in a directory others can write to.
            if (status.OwnerId != Libc.GetEffectiveUserId())
                throw new InvalidOperationException($"{path} exists and belongs to uid {status.OwnerId}, not to the server; remove it, or choose another place for {what}");
            Directory.Delete(path, recursive: true);
            return;
        }
        errno = Libc.Unlink(path);
        if (errno is not 0 and not Errno.ENOENT)
            Libc.ThrowIO(path, "unlink", errno);
    }
}
