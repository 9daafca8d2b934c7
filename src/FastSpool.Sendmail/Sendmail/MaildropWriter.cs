using System.Security.Cryptography;
using FastSpool.Posix;
using FastSpool.Queue.Pickup;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Cli.Sendmail;

/// <summary>Drops a message into <c>DataDirectory/maildrop</c> when the server cannot take it now: a file named
/// with a leading dot (which the server never reads), written, fsynced, renamed to its final name, and the
/// directory fsynced; only then is the message safe, and sendmail may exit 0. A writer killed at any point leaves
/// at most a dot file, never a message half there. Root and the server's user drop into the private maildrop;
/// everyone else into the shared one (<see cref="SharedMaildrop"/>), if it is there and as it should be.</summary>
internal sealed class MaildropWriter : IDisposable
{
    private readonly string _directory;
    private readonly bool _shared;
    private readonly string _temporary;
    private readonly FileStream _file;
    private readonly long _sizeAt;
    private readonly long _start;
    private bool _published;

    private MaildropWriter(string directory, bool shared, string temporary, FileStream file, MaildropEnvelope envelope)
    {
        _directory = directory;
        _shared = shared;
        _temporary = temporary;
        _file = file;
        _sizeAt = MaildropFile.WriteEnvelope(file, envelope);
        _start = file.Position;
    }

    /// <summary>Opens a new file in the maildrop; throws <see cref="UnauthorizedAccessException"/> or
    /// <see cref="IOException"/> saying why it cannot.</summary>
    public static MaildropWriter Create(string directory, MaildropEnvelope envelope)
    {
        string data = Path.GetDirectoryName(directory)!;
        if (!Directory.Exists(data))
            throw new IOException($"the data directory {data} does not exist (has the server ever run?)");
        if (Libc.Stat(directory, out _) == Errno.ENOENT)
        {
            int made = Libc.MkDir(directory, PrivateModes.Directory);
            if (made == Errno.EACCES)
                throw new UnauthorizedAccessException(Libc.Describe(directory, "mkdir", made));
            if (made is not 0 and not Errno.EEXIST)
                Libc.ThrowIO(directory, "mkdir", made);
        }
        string temporary = Path.Combine(directory, $".{Environment.ProcessId}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(6))}");
        return Open(directory, shared: false, temporary, PrivateModes.File, envelope);
    }

    /// <summary>Opens a new file in the shared maildrop, after checking that it is one: a directory of mode 1733
    /// that belongs to the owner of <paramref name="dataDirectory"/> (the server's user), so that a directory someone
    /// else made there is never written into. Throws <see cref="UnauthorizedAccessException"/> or
    /// <see cref="IOException"/> saying why it cannot.</summary>
    public static MaildropWriter CreateShared(string directory, string dataDirectory, MaildropEnvelope envelope)
    {
        int errno = Libc.Stat(dataDirectory, out UnixFileStatus data);
        if (errno != 0)
            throw new IOException(Libc.Describe(dataDirectory, "stat", errno) + " (has the server ever run?)");
        if (SharedMaildrop.Problem(directory, data.OwnerId) is { } problem)
            throw new UnauthorizedAccessException("the shared maildrop cannot be used: " + problem);
        return Open(directory, shared: true, Path.Combine(directory, SharedMaildrop.NewName(DateTime.UtcNow, temporary: true)), SharedMaildrop.FileMode, envelope);
    }

    private static MaildropWriter Open(string directory, bool shared, string temporary, UnixFileMode mode, MaildropEnvelope envelope)
    {
        int errno = Libc.Open(temporary, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow | OpenFlags.CloseOnExec,
            mode, out SafeFileHandle? handle);
        if (errno == Errno.EACCES)
            throw new UnauthorizedAccessException(Libc.Describe(temporary, "open", errno));
        if (errno != 0 || handle is null)
            Libc.ThrowIO(temporary, "open", errno);
        // The umask may have taken bits the server needs to read a shared file; chmod is not reduced by it.
        if (shared && (errno = Libc.FChmod(handle!, mode)) != 0)
        {
            handle!.Dispose();
            Libc.Unlink(temporary);
            Libc.ThrowIO(temporary, "fchmod", errno);
        }
        var file = new FileStream(handle!, FileAccess.Write, 64 * 1024);
        try
        {
            return new MaildropWriter(directory, shared, temporary, file, envelope);
        }
        catch
        {
            file.Dispose();
            Libc.Unlink(temporary);
            throw;
        }
    }

    public void Write(ReadOnlySpan<byte> text) => _file.Write(text);

    /// <summary>Makes the message durable and visible: size, fsync, rename, fsync of the directory (or, in the shared
    /// maildrop, which its users may not open, of the whole file system). Returns its name.</summary>
    public string Publish()
    {
        MaildropFile.WriteSize(_file, _sizeAt, _file.Position - _start);
        _file.Flush(flushToDisk: true);
        string name = _shared ? SharedMaildrop.NewName(DateTime.UtcNow, temporary: false)
            : $"{DateTime.UtcNow:yyyyMMddHHmmssfffffff}.{Environment.ProcessId}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(4))}";
        int errno = Libc.Rename(_temporary, Path.Combine(_directory, name));
        if (errno != 0)
            Libc.ThrowIO(_temporary, "rename", errno);
        _published = true;
        if (_shared)
        {
            errno = Libc.SyncFs(_file.SafeFileHandle);
            _file.Dispose();
            if (errno != 0)
                Libc.ThrowIO(_directory, "syncfs", errno);
            return name;
        }
        _file.Dispose();
        errno = Libc.Open(_directory, OpenFlags.CloseOnExec, 0, out SafeFileHandle? directory);
        if (errno != 0 || directory is null)
            Libc.ThrowIO(_directory, "open", errno);
        using (directory)
        {
            errno = Libc.FSync(directory);
            if (errno != 0)
                Libc.ThrowIO(_directory, "fsync", errno);
        }
        return name;
    }

    /// <summary>Unless published: the file is removed (the message was refused before it was safe).</summary>
    public void Dispose()
    {
        if (_published)
            return;
        _file.Dispose();
        Libc.Unlink(_temporary);
    }
}
