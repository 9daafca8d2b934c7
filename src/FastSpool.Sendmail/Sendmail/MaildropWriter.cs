using System.Security.Cryptography;
using FastSpool.Posix;
using FastSpool.Queue.Pickup;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Cli.Sendmail;

/// <summary>Drops a message into <c>DataDirectory/maildrop</c> when the server cannot take it now: a file named
/// with a leading dot (which the server never reads), written, fsynced, renamed to its final name, and the
/// directory fsynced; only then is the message safe, and sendmail may exit 0. A writer killed at any point leaves
/// at most a dot file, never a message half there. Only who may write the data directory (root and the server's
/// user) can drop; everyone else is told to try later.</summary>
internal sealed class MaildropWriter : IDisposable
{
    private readonly string _directory;
    private readonly string _temporary;
    private readonly FileStream _file;
    private readonly long _sizeAt;
    private readonly long _start;
    private bool _published;

    private MaildropWriter(string directory, string temporary, FileStream file, MaildropEnvelope envelope)
    {
        _directory = directory;
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
        int errno = Libc.Open(temporary, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow | OpenFlags.CloseOnExec,
            PrivateModes.File, out SafeFileHandle? handle);
        if (errno == Errno.EACCES)
            throw new UnauthorizedAccessException(Libc.Describe(temporary, "open", errno));
        if (errno != 0 || handle is null)
            Libc.ThrowIO(temporary, "open", errno);
        var file = new FileStream(handle!, FileAccess.Write, 64 * 1024);
        try
        {
            return new MaildropWriter(directory, temporary, file, envelope);
        }
        catch
        {
            file.Dispose();
            Libc.Unlink(temporary);
            throw;
        }
    }

    public void Write(ReadOnlySpan<byte> text) => _file.Write(text);

    /// <summary>Makes the message durable and visible: size, fsync, rename, fsync of the directory. Returns its name.</summary>
    public string Publish()
    {
        MaildropFile.WriteSize(_file, _sizeAt, _file.Position - _start);
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        string name = $"{DateTime.UtcNow:yyyyMMddHHmmssfffffff}.{Environment.ProcessId}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(4))}";
        int errno = Libc.Rename(_temporary, Path.Combine(_directory, name));
        if (errno != 0)
            Libc.ThrowIO(_temporary, "rename", errno);
        _published = true;
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
