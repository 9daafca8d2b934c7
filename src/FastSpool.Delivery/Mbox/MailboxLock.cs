using System.Diagnostics;
using FastSpool.Posix;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Delivery.Mbox;

/// <summary>A mailbox held under the MUAs' locks, the way Postfix local(8) takes them: the dotlock
/// (<c>NAME.lock</c>, holding our pid) and an fcntl lock on the open file, both or neither. Before the locks the name
/// is checked with lstat and opened with O_NOFOLLOW, and what was opened is checked again with fstat: a regular file
/// with one link, owned by its owner (<see cref="MailboxOwner"/>). Delivery (<see cref="MailboxFile"/>) and the POP3
/// maildrop hold a mailbox through this one type.</summary>
/// <remarks>The fcntl lock is an open-file-description lock: it conflicts with the classic POSIX locks of mutt
/// and mailx and also with a second open in this process.</remarks>
public sealed class MailboxLock : IDisposable
{
    /// <summary>A dotlock older than this was left by a writer that died (the MUAs' convention).</summary>
    public static readonly TimeSpan StaleLockAge = TimeSpan.FromMinutes(5);

    private const OpenFlags MailboxFlags =
        OpenFlags.ReadWrite | OpenFlags.NoFollow | OpenFlags.CloseOnExec | OpenFlags.NonBlocking;

    private const OpenFlags LockFileFlags =
        OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow | OpenFlags.CloseOnExec;

    private const UnixFileMode FileMode = MailboxFile.DefaultMode;
    private const UnixFileMode DirectoryMode = FileMode | UnixFileMode.UserExecute;
    private const int MaxRetryDelayMilliseconds = 100;

    private SafeFileHandle _handle;

    private MailboxLock(string path, string lockPath, SafeFileHandle handle, long length, MailboxOwner owner)
    {
        Path = path;
        LockPath = lockPath;
        _handle = handle;
        Length = length;
        Owner = owner;
    }

    public string Path { get; }

    /// <summary>The dotlock's path, <c>Path.lock</c>.</summary>
    public string LockPath { get; }

    public MailboxOwner Owner { get; }

    /// <summary>The open mailbox, read-write, under the fcntl lock.</summary>
    public SafeFileHandle Handle => _handle;

    /// <summary>The file's length when it was locked.</summary>
    public long Length { get; }

    /// <summary>Called between the look at the name and the open, with the path: lets a test swap the file there,
    /// as an attacker racing the server would.</summary>
    internal static Action<string>? BeforeOpen { get; set; }

    /// <summary>Opens and locks the mailbox at <paramref name="path"/>, creating it (with <paramref name="mode"/>,
    /// given to its owner) and its directory when <paramref name="create"/> and missing; retries the locks with a short
    /// backoff for up to <paramref name="lockTimeout"/>.</summary>
    /// <param name="error">Why the result is not <see cref="MailboxOpenResult.Opened"/>, naming the path.</param>
    public static MailboxOpenResult TryAcquire(string path, MailboxOwner owner, UnixFileMode mode, bool create, TimeSpan lockTimeout,
        out MailboxLock? held, out string? error) =>
        Open(path, owner, mode, create, lockTimeout, out held, out error);

    /// <summary>Puts <paramref name="replacement"/>, a complete new version of the mailbox written beside it at
    /// <paramref name="replacementPath"/> (fsynced, with the mailbox's owner and mode), in the mailbox's place: it is
    /// fcntl-locked first, renamed over the mailbox and the directory is fsynced, so that the name leads at every
    /// instant to a whole mailbox, old or new, and the new one is locked from the moment it has the name. The
    /// dotlock is held throughout. From then on <see cref="Handle"/> is the new file.</summary>
    public void Replace(SafeFileHandle replacement, string replacementPath)
    {
        int errno = Libc.OfdSetLock(replacement, FileLockType.Write);
        if (errno != 0)
            Libc.ThrowIO(replacementPath, "fcntl lock", errno);
        errno = Libc.Rename(replacementPath, Path);
        if (errno != 0)
            Libc.ThrowIO(replacementPath, "rename to " + Path, errno);
        SyncDirectory(System.IO.Path.GetDirectoryName(Path) ?? ".");
        SafeFileHandle old = _handle;
        _handle = replacement;
        _ = Libc.OfdSetLock(old, FileLockType.Unlock);
        old.Dispose();
    }

    /// <summary>fsync of a directory, so that a rename in it is durable.</summary>
    public static void SyncDirectory(string directory)
    {
        int errno = Libc.Open(directory, OpenFlags.CloseOnExec, 0, out SafeFileHandle? handle);
        if (handle is null)
            Libc.ThrowIO(directory, "open", errno);
        using (handle)
        {
            errno = Libc.FSync(handle!);
            // Some file systems cannot fsync a directory (EINVAL); their renames are as durable as they get.
            if (errno is not (0 or Errno.EINVAL))
                Libc.ThrowIO(directory, "fsync", errno);
        }
    }

    /// <summary>Releases the fcntl lock, removes the dotlock and closes the file.</summary>
    public void Dispose()
    {
        if (_handle.IsClosed)
            return;
        Unlock(_handle, LockPath);
        _handle.Dispose();
    }

    private static MailboxOpenResult Open(string path, MailboxOwner owner, UnixFileMode mode, bool create, TimeSpan lockTimeout,
        out MailboxLock? held, out string? error)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        held = null;
        string lockPath = path + ".lock";
        long started = Stopwatch.GetTimestamp();
        int delay = 1;
        while (true)
        {
            MailboxOpenResult result =
                OpenOnce(path, lockPath, owner, mode, create, out SafeFileHandle? handle, out long length, out error);
            if (result == MailboxOpenResult.Opened)
            {
                held = new MailboxLock(path, lockPath, handle!, length, owner);
                return result;
            }
            if (result != MailboxOpenResult.Locked)
                return result;

            TimeSpan remaining = lockTimeout - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
                return result;
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(delay, remaining.TotalMilliseconds)));
            delay = Math.Min(delay * 2, MaxRetryDelayMilliseconds);
        }
    }

    /// <summary>One attempt: check, open, check again on the descriptor, and take both locks without waiting.
    /// Whatever the name was swapped for after the look, the open does not follow a symbolic link (O_NOFOLLOW),
    /// does not take over a file created meanwhile (O_EXCL), and what was opened is checked by fstat, so a race
    /// cannot make the server write where the mailbox's owner could not.</summary>
    private static MailboxOpenResult OpenOnce(string path, string lockPath, MailboxOwner owner, UnixFileMode mode, bool create,
        out SafeFileHandle? handle, out long length, out string? error)
    {
        handle = null;
        length = 0;

        // Look before opening: opening a device or a FIFO can have side effects.
        int errno = Libc.LStat(path, out UnixFileStatus named);
        bool existed = errno == 0;
        if (existed)
        {
            error = Refusal(path, named, owner);
            if (error is not null)
                return RefusedOrFailed(named, owner);
        }
        else if (errno != Errno.ENOENT || !create)
        {
            error = Libc.Describe(path, "lstat", errno);
            return MailboxOpenResult.Failed;
        }
        else if (!TryCreateDirectory(path, out error))
        {
            return MailboxOpenResult.Failed;
        }

        BeforeOpen?.Invoke(path);
        bool creating = !existed;
        errno = Libc.Open(path, creating ? MailboxFlags | OpenFlags.Create | OpenFlags.Exclusive : MailboxFlags, mode, out SafeFileHandle? opened);
        if (opened is null)
        {
            // These mean the name changed into something we refuse between lstat and open.
            (error, MailboxOpenResult result) = errno switch
            {
                Errno.ELOOP => ($"{path} is a symbolic link", MailboxOpenResult.Refused),
                Errno.EISDIR => ($"{path} is a directory, not a regular file", MailboxOpenResult.Refused),
                Errno.ENXIO => ($"{path} is a socket or a device, not a regular file", MailboxOpenResult.Refused),
                // Created by someone else since we looked: look again.
                Errno.EEXIST => ($"{path} was created by another process while it was being opened", MailboxOpenResult.Locked),
                Errno.EACCES => (NoAccess(path, owner), MailboxOpenResult.Failed),
                _ => (Libc.Describe(path, "open", errno), MailboxOpenResult.Failed),
            };
            return result;
        }

        if (creating && !TryGiveToOwner(path, opened, owner, mode, out error))
        {
            opened.Dispose();
            return MailboxOpenResult.Failed;
        }

        errno = Libc.FStat(opened, out UnixFileStatus status);
        MailboxOpenResult checkedResult = CheckOpened(path, errno, status, existed, named, owner, out error);
        if (checkedResult != MailboxOpenResult.Opened)
        {
            opened.Dispose();
            return checkedResult;
        }

        MailboxOpenResult locked = Lock(path, lockPath, opened, out error);
        if (locked != MailboxOpenResult.Opened)
        {
            opened.Dispose();
            return locked;
        }

        // A MUA may have replaced the mailbox (rename over it) while we were getting the locks.
        errno = Libc.LStat(path, out named);
        if (errno == Errno.ENOENT)
            named = default; // fails the same-file check below: retried
        else if (errno == 0)
            errno = Libc.FStat(opened, out status);
        checkedResult = CheckOpened(path, errno == Errno.ENOENT ? 0 : errno, status, existed: true, named, owner, out error);
        if (checkedResult != MailboxOpenResult.Opened)
        {
            Unlock(opened, lockPath);
            opened.Dispose();
            return checkedResult;
        }

        handle = opened;
        length = status.Size;
        return MailboxOpenResult.Opened;
    }

    private static MailboxOpenResult CheckOpened(string path, int errno, in UnixFileStatus status, bool existed,
        in UnixFileStatus named, MailboxOwner owner, out string? error)
    {
        if (errno != 0)
        {
            error = Libc.Describe(path, "stat", errno);
            return MailboxOpenResult.Failed;
        }
        error = Refusal(path, status, owner);
        if (error is not null)
            return RefusedOrFailed(status, owner);
        if (existed && !status.IsSameFile(named))
        {
            // Retried like a held lock: the next attempt opens whatever the name leads to now.
            error = $"{path} was replaced while it was being opened";
            return MailboxOpenResult.Locked;
        }
        return MailboxOpenResult.Opened;
    }

    /// <summary>Why a file must not be written as a mailbox, or null.</summary>
    /// <summary>A mailbox that is fine but for its owner (a root-owned one left from before, say) waits for the
    /// administrator's chown, deferred, rather than bouncing the mail: as sendmail's mail.local does.</summary>
    private static MailboxOpenResult RefusedOrFailed(in UnixFileStatus status, MailboxOwner owner) =>
        status.Type == UnixFileType.RegularFile && status.LinkCount <= 1 && status.OwnerId != owner.UserId
            ? MailboxOpenResult.Failed
            : MailboxOpenResult.Refused;

    private static string? Refusal(string path, in UnixFileStatus status, MailboxOwner owner)
    {
        string? notRegular = status.Type switch
        {
            UnixFileType.RegularFile => null,
            UnixFileType.SymbolicLink => "is a symbolic link",
            UnixFileType.Directory => "is a directory, not a regular file",
            UnixFileType.Fifo => "is a FIFO, not a regular file",
            UnixFileType.CharacterDevice or UnixFileType.BlockDevice => "is a device, not a regular file",
            UnixFileType.Socket => "is a socket, not a regular file",
            _ => "is not a regular file",
        };
        if (notRegular is not null)
            return $"{path} {notRegular}";
        if (status.LinkCount > 1)
            return $"{path} has {status.LinkCount} hard links";
        if (status.OwnerId != owner.UserId)
        {
            return owner.IsAccount
                ? $"{path} is owned by uid {status.OwnerId}, not by uid {owner.UserId} whose mailbox it is"
                : $"{path} is owned by uid {status.OwnerId}, not by uid {owner.UserId} that delivers the mail";
        }
        return null;
    }

    /// <summary>Sets a mailbox just created to its mode, whatever the umask, and gives an account's to the account
    /// and the mail directory's group. When that is not allowed the new file is removed again: a mailbox the
    /// account could not read, owned by the server, must not be left behind.</summary>
    private static bool TryGiveToOwner(string path, SafeFileHandle handle, MailboxOwner owner, UnixFileMode mode, out string? error)
    {
        int errno = Libc.FChmod(handle, mode);
        if (errno == 0 && owner.IsAccount)
        {
            string directory = System.IO.Path.GetDirectoryName(path) ?? ".";
            uint group = Libc.Stat(directory, out UnixFileStatus status) == 0 ? status.GroupId : uint.MaxValue; // -1: unchanged
            errno = Libc.FChown(handle, owner.UserId, group);
            if (errno == Errno.EPERM)
            {
                RemoveCreated(path, handle);
                error = $"cannot give the new mailbox {path} to uid {owner.UserId}: the server (uid {Libc.GetEffectiveUserId()}) "
                    + $"lacks {Capabilities.NameOf(Capability.Chown)}; run it as root or grant it {Capabilities.NameOf(Capability.Chown)}";
                return false;
            }
        }
        if (errno != 0)
        {
            RemoveCreated(path, handle);
            error = Libc.Describe(path, owner.IsAccount ? "fchmod/fchown of the new mailbox" : "fchmod of the new mailbox", errno);
            return false;
        }
        error = null;
        return true;
    }

    /// <summary>Unlinks the name of a file this process just created, if the name still leads to it.</summary>
    private static void RemoveCreated(string path, SafeFileHandle handle)
    {
        if (Libc.FStat(handle, out UnixFileStatus opened) == 0 && Libc.LStat(path, out UnixFileStatus named) == 0
            && opened.IsSameFile(named))
        {
            _ = Libc.Unlink(path);
        }
    }

    /// <summary>Why an existing mailbox cannot be opened: the mode grants the server nothing, and the server has no
    /// right to pass over that.</summary>
    private static string NoAccess(string path, MailboxOwner owner) =>
        $"{path}: open: permission denied: the server (uid {Libc.GetEffectiveUserId()}) may not write the mailbox of uid {owner.UserId}; "
        + $"it needs {Capabilities.NameOf(Capability.DacOverride)} (run it as root), or write access through the mailbox's group "
        + "(Delivery:MailboxMode 0660, the server in the mail directory's group)";

    private static bool TryCreateDirectory(string path, out string? error)
    {
        error = null;
        string? directory = System.IO.Path.GetDirectoryName(path);
        if (string.IsNullOrEmpty(directory))
            return true;
        int errno = Libc.MkDir(directory, DirectoryMode);
        if (errno is 0 or Errno.EEXIST)
            return true;
        error = Libc.Describe(directory, "mkdir", errno);
        return false;
    }

    /// <summary>Takes the dotlock, then the fcntl lock; both or neither, so that a process that takes them in the
    /// other order is never kept waiting by half a lock.</summary>
    private static MailboxOpenResult Lock(string path, string lockPath, SafeFileHandle handle, out string? error)
    {
        int errno = CreateLockFile(lockPath);
        if (errno == Errno.EEXIST && RemoveStaleLockFile(lockPath))
            errno = CreateLockFile(lockPath);
        if (errno == Errno.EEXIST)
        {
            error = $"{path} is locked: {lockPath} exists";
            return MailboxOpenResult.Locked;
        }
        if (errno != 0)
        {
            error = Libc.Describe(lockPath, "create lock file", errno);
            return MailboxOpenResult.Failed;
        }

        errno = Libc.OfdSetLock(handle, FileLockType.Write);
        if (errno == 0)
        {
            error = null;
            return MailboxOpenResult.Opened;
        }
        _ = Libc.Unlink(lockPath);
        if (errno is Errno.EAGAIN or Errno.EACCES)
        {
            error = $"{path} is locked by another process (fcntl)";
            return MailboxOpenResult.Locked;
        }
        error = Libc.Describe(path, "fcntl lock", errno);
        return MailboxOpenResult.Failed;
    }

    /// <summary>Creates the dotlock holding our process id (as liblockfile does), so that a lock left by a writer
    /// that died, such as FastSpool killed mid-delivery, is recognised at once instead of after five minutes. The pid
    /// is written to a private temporary file first and the dotlock is made by <c>link(2)</c>, so the dotlock never
    /// exists empty: a writer killed between creating it and writing its pid would otherwise leave a lock that only
    /// turns stale by age.</summary>
    private static int CreateLockFile(string lockPath)
    {
        string directory = System.IO.Path.GetDirectoryName(lockPath)!;
        string temporary = System.IO.Path.Combine(directory,
            $".{System.IO.Path.GetFileName(lockPath)}.{Environment.ProcessId}.{Interlocked.Increment(ref s_lockAttempt)}");
        int errno = Libc.Open(temporary, LockFileFlags, FileMode, out SafeFileHandle? handle);
        if (handle is null)
            return errno;
        try
        {
            using (handle)
            {
                Span<byte> pid = stackalloc byte[16];
                Environment.ProcessId.TryFormat(pid, out int length, provider: System.Globalization.CultureInfo.InvariantCulture);
                pid[length++] = (byte)'\n';
                RandomAccess.Write(handle, pid[..length], 0);
            }
            return Libc.Link(temporary, lockPath);
        }
        catch (IOException)
        {
            return Errno.EIO;
        }
        finally
        {
            Libc.Unlink(temporary);
        }
    }

    private static long s_lockAttempt;

    /// <returns>True when the dotlock is gone (it was stale, or its holder removed it).</returns>
    private static bool RemoveStaleLockFile(string lockPath)
    {
        int errno = Libc.LStat(lockPath, out UnixFileStatus status);
        if (errno == Errno.ENOENT)
            return true;
        if (errno != 0)
            return false;
        if (DateTimeOffset.UtcNow - status.ModificationTime < StaleLockAge && !HolderIsGone(lockPath))
            return false;
        errno = Libc.Unlink(lockPath);
        return errno is 0 or Errno.ENOENT;
    }

    /// <summary>True when the dotlock names a process id that no longer exists on this machine.</summary>
    private static bool HolderIsGone(string lockPath)
    {
        Span<byte> content = stackalloc byte[32];
        int read;
        try
        {
            using SafeFileHandle handle = File.OpenHandle(lockPath, System.IO.FileMode.Open, FileAccess.Read);
            read = RandomAccess.Read(handle, content, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        ReadOnlySpan<byte> text = content[..read].TrimEnd("\n\r "u8);
        return System.Buffers.Text.Utf8Parser.TryParse(text, out int pid, out int used) && used == text.Length && !Libc.ProcessExists(pid);
    }

    private static void Unlock(SafeFileHandle handle, string lockPath)
    {
        // Failures are harmless here: closing the descriptor drops the fcntl lock, and a dotlock left behind
        // turns stale.
        _ = Libc.OfdSetLock(handle, FileLockType.Unlock);
        _ = Libc.Unlink(lockPath);
    }

}
