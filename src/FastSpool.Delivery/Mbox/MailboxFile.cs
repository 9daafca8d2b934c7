using System.Buffers;
using System.Diagnostics;
using FastSpool.Posix;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Delivery.Mbox;

/// <summary>An mbox file, opened and locked for appending the way Postfix local(8) does it: refuse anything that
/// is not a regular file with one link owned by its owner (<see cref="MailboxOwner"/>), checked on the opened
/// descriptor; take the dotlock and an fcntl lock (the MUAs' convention), append and fsync, and on any error
/// truncate back to the length it had.</summary>
/// <remarks>The fcntl lock is an open-file-description lock: it conflicts with the classic POSIX locks of mutt
/// and mailx and also with a second open in this process. Each append is one or more whole mbox entries, so it
/// starts with <c>From </c>; <see cref="CheckRegion"/> relies on that.</remarks>
public sealed class MailboxFile : IDisposable
{
    /// <summary>A dotlock older than this was left by a writer that died (the MUAs' convention).</summary>
    public static readonly TimeSpan StaleLockAge = TimeSpan.FromMinutes(5);

    private const OpenFlags MailboxFlags =
        OpenFlags.ReadWrite | OpenFlags.NoFollow | OpenFlags.CloseOnExec | OpenFlags.NonBlocking;

    private const OpenFlags LockFileFlags =
        OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow | OpenFlags.CloseOnExec;

    /// <summary>The mode of a new mailbox unless told otherwise: Postfix's.</summary>
    public const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode FileMode = DefaultMode;
    private const UnixFileMode DirectoryMode = FileMode | UnixFileMode.UserExecute;
    private const int MaxRetryDelayMilliseconds = 100;
    private const int ChecksumBufferSize = 64 * 1024;

    private readonly SafeFileHandle _handle;
    private readonly string _lockPath;
    private bool _faulted;

    private MailboxFile(string path, string lockPath, SafeFileHandle handle, long length)
    {
        Path = path;
        _lockPath = lockPath;
        _handle = handle;
        Length = length;
    }

    public string Path { get; }

    /// <summary>The length of the file, known since it was locked and kept by <see cref="Append(in ReadOnlySequence{byte})"/>.</summary>
    public long Length { get; private set; }

    /// <summary>Opens (creating it with mode 0600, and its directory with 0700, if missing) and locks the mailbox
    /// at <paramref name="path"/>, retrying the locks with a short backoff for up to
    /// <paramref name="lockTimeout"/>.</summary>
    /// <param name="error">Why the result is not <see cref="MailboxOpenResult.Opened"/>, naming the path.</param>
    public static MailboxOpenResult TryOpen(
        string path, TimeSpan lockTimeout, out MailboxFile? mailbox, out string? error) =>
        TryOpen(path, MailboxOwner.Server, DefaultMode, lockTimeout, out mailbox, out error);

    /// <summary>As <see cref="TryOpen(string, TimeSpan, out MailboxFile?, out string?)"/>, for the mailbox of
    /// <paramref name="owner"/>: an existing file must be the owner's; a new one is created with
    /// <paramref name="mode"/> and, for an account, given to it (which needs CAP_CHOWN).</summary>
    public static MailboxOpenResult TryOpen(
        string path, MailboxOwner owner, UnixFileMode mode, TimeSpan lockTimeout, out MailboxFile? mailbox, out string? error) =>
        Open(path, owner, mode, create: true, lockTimeout, out mailbox, out error);

    /// <summary>Called between the look at the name and the open, with the path: lets a test swap the file there,
    /// as an attacker racing the server would.</summary>
    internal static Action<string>? BeforeOpen { get; set; }

    /// <summary>CRC-32C of an append, as the queue records it before <see cref="Append(in ReadOnlySequence{byte})"/>.</summary>
    public static uint Checksum(in ReadOnlySequence<byte> content) => Crc32C.Compute(content);

    /// <summary>CRC-32C of an append given as parts, as <see cref="Append(ReadOnlySpan{ReadOnlyMemory{byte}})"/>
    /// writes them.</summary>
    public static uint Checksum(params ReadOnlySpan<ReadOnlyMemory<byte>> parts)
    {
        uint crc = Crc32C.Start;
        foreach (ReadOnlyMemory<byte> part in parts)
            crc = Crc32C.Append(crc, part.Span);
        return Crc32C.Finish(crc);
    }

    /// <summary>After a crash, finds out what became of an append recorded as (<paramref name="offset"/>,
    /// <paramref name="length"/>, <paramref name="crc"/>) and, when it was left incomplete, truncates the mailbox
    /// back to <paramref name="offset"/>. Takes the same locks as <see cref="TryOpen"/>.</summary>
    /// <param name="detail">What was found, for the log; null when the answer needs no explanation.</param>
    public static MailboxRegionState CheckRegion(
        string path, long offset, long length, uint crc, TimeSpan lockTimeout, out string? detail) =>
        CheckRegion(path, MailboxOwner.Server, offset, length, crc, lockTimeout, out detail);

    /// <inheritdoc cref="CheckRegion(string, long, long, uint, TimeSpan, out string?)"/>
    public static MailboxRegionState CheckRegion(
        string path, MailboxOwner owner, long offset, long length, uint crc, TimeSpan lockTimeout, out string? detail)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);

        int errno = Libc.LStat(path, out _);
        if (errno == Errno.ENOENT)
        {
            detail = $"{path} does not exist";
            return offset == 0 ? MailboxRegionState.Absent : MailboxRegionState.Changed;
        }

        MailboxOpenResult opened = Open(path, owner, DefaultMode, create: false, lockTimeout, out MailboxFile? mailbox, out detail);
        switch (opened)
        {
            case MailboxOpenResult.Locked:
                return MailboxRegionState.Locked;
            case MailboxOpenResult.Refused:
                return MailboxRegionState.Changed;
            case MailboxOpenResult.Failed:
                return MailboxRegionState.Failed;
        }

        using (mailbox)
        {
            try
            {
                return mailbox!.ExamineRegion(offset, length, crc, out detail);
            }
            catch (IOException exception)
            {
                detail = exception.Message;
                return MailboxRegionState.Failed;
            }
        }
    }

    /// <summary>Appends <paramref name="content"/> durably: reserves the space (so a full disk is an error, not a
    /// SIGBUS), writes it through a shared mapping of the new tail and fsyncs. On any failure the file is
    /// truncated back to <see cref="Length"/> and synced before the exception propagates.</summary>
    /// <exception cref="IOException">A system call failed; the message names the path and the call.</exception>
    public void Append(in ReadOnlySequence<byte> content) => AppendCore(content, default);

    /// <inheritdoc cref="Append(in ReadOnlySequence{byte})"/>
    public void Append(params ReadOnlySpan<ReadOnlyMemory<byte>> parts) => AppendCore(default, parts);

    /// <summary>Releases the fcntl lock, removes the dotlock and closes the file.</summary>
    public void Dispose()
    {
        if (_handle.IsClosed)
            return;
        Unlock(_handle, _lockPath);
        _handle.Dispose();
    }

    private static MailboxOpenResult Open(string path, MailboxOwner owner, UnixFileMode mode, bool create, TimeSpan lockTimeout,
        out MailboxFile? mailbox, out string? error)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        mailbox = null;
        string lockPath = path + ".lock";
        long started = Stopwatch.GetTimestamp();
        int delay = 1;
        while (true)
        {
            MailboxOpenResult result =
                OpenOnce(path, lockPath, owner, mode, create, out SafeFileHandle? handle, out long length, out error);
            if (result == MailboxOpenResult.Opened)
            {
                mailbox = new MailboxFile(path, lockPath, handle!, length);
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

    private unsafe void AppendCore(in ReadOnlySequence<byte> sequence, ReadOnlySpan<ReadOnlyMemory<byte>> parts)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        if (_faulted)
            throw new InvalidOperationException($"{Path}: an earlier append could not be undone; reopen the mailbox.");

        long length = sequence.Length;
        foreach (ReadOnlyMemory<byte> part in parts)
            length += part.Length;
        if (length == 0)
            return;

        long start = Length;
        long mapOffset = start & ~((long)Environment.SystemPageSize - 1);
        nuint mapLength = (nuint)(start - mapOffset + length);
        nint address = 0;
        try
        {
            int errno = Libc.PosixFallocate(_handle, start, length);
            if (errno != 0)
                Libc.ThrowIO(Path, $"posix_fallocate of {length} bytes at {start}", errno);
            errno = Libc.MMap(_handle, mapOffset, mapLength, out address);
            if (errno != 0)
                Libc.ThrowIO(Path, $"mmap of {mapLength} bytes at {mapOffset}", errno);

            byte* destination = (byte*)address + (start - mapOffset);
            foreach (ReadOnlyMemory<byte> segment in sequence)
            {
                segment.Span.CopyTo(new Span<byte>(destination, segment.Length));
                destination += segment.Length;
            }
            foreach (ReadOnlyMemory<byte> part in parts)
            {
                part.Span.CopyTo(new Span<byte>(destination, part.Length));
                destination += part.Length;
            }

            // No msync: on Linux the pages written through a shared mapping are the file's page cache, and the
            // fsync below writes them together with the new length, in one flush instead of two.
            errno = Libc.MUnmap(address, mapLength);
            address = 0;
            if (errno != 0)
                Libc.ThrowIO(Path, "munmap", errno);
            errno = Libc.FSync(_handle);
            if (errno != 0)
                Libc.ThrowIO(Path, "fsync", errno);
        }
        catch (Exception exception)
        {
            if (address != 0)
                _ = Libc.MUnmap(address, mapLength);
            string? rollbackError = TruncateAndSync(start);
            if (rollbackError is null)
                throw;
            _faulted = true;
            throw new IOException(
                $"{exception.Message}; then truncating back to {start} bytes failed: {rollbackError}", exception);
        }
        Length = start + length;
    }

    /// <returns>Null, or what failed.</returns>
    private string? TruncateAndSync(long length)
    {
        int errno = Libc.FTruncate(_handle, length);
        if (errno != 0)
            return Libc.Describe(Path, "ftruncate", errno);
        errno = Libc.FSync(_handle);
        return errno == 0 ? null : Libc.Describe(Path, "fsync", errno);
    }

    private MailboxRegionState ExamineRegion(long offset, long length, uint crc, out string? detail)
    {
        long size = Length;
        if (size < offset)
        {
            detail = $"{Path} is {size} bytes, shorter than the recorded append at {offset}";
            return MailboxRegionState.Changed;
        }
        if (size == offset)
        {
            detail = null;
            return MailboxRegionState.Absent;
        }

        long tail = size - offset;
        if (tail >= length)
        {
            if (ChecksumOfRange(offset, length) == crc)
            {
                detail = null;
                return MailboxRegionState.Present;
            }
            if (tail > length)
            {
                detail = $"{Path}: the {length} bytes at {offset} do not match the recorded checksum and {tail - length} more bytes follow";
                return MailboxRegionState.Changed;
            }
        }

        // Our appends extend the file to its full new length before writing (posix_fallocate), so an interrupted
        // one leaves exactly offset+length bytes: a region starting with "From " or with NULs (pages that never
        // reached the disk). A shorter tail can only be ours if it is all NULs (a fallocate emulated by writing
        // zeros); anything else is a mailbox that something else rewrote, and is not ours to cut.
        bool ours = tail == length ? TailLooksLikeAppend(offset, tail) : TailIsAllNul(offset, tail);
        if (!ours)
        {
            detail = $"{Path}: the {tail} bytes after {offset} are not an interrupted append";
            return MailboxRegionState.Changed;
        }
        string? error = TruncateAndSync(offset);
        if (error is not null)
        {
            detail = error;
            return MailboxRegionState.Failed;
        }
        Length = offset;
        detail = $"{Path}: removed {tail} bytes of an interrupted append at {offset}";
        return MailboxRegionState.RolledBack;
    }

    private bool TailLooksLikeAppend(long offset, long tail)
    {
        Span<byte> start = stackalloc byte[MboxSyntax.From.Length];
        start = start[..(int)Math.Min(tail, start.Length)];
        int read = RandomAccess.Read(_handle, start, offset);
        start = start[..read];
        return !start.IsEmpty && (start[0] == 0 || MboxSyntax.From.StartsWith(start));
    }

    private bool TailIsAllNul(long offset, long length)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(length, ChecksumBufferSize));
        try
        {
            while (length > 0)
            {
                int read = RandomAccess.Read(_handle, buffer.AsSpan(0, (int)Math.Min(length, buffer.Length)), offset);
                if (read == 0 || buffer.AsSpan(0, read).ContainsAnyExcept((byte)0))
                    return false;
                offset += read;
                length -= read;
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private uint ChecksumOfRange(long offset, long length)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(length, ChecksumBufferSize));
        try
        {
            uint crc = Crc32C.Start;
            while (length > 0)
            {
                int read = RandomAccess.Read(_handle, buffer.AsSpan(0, (int)Math.Min(length, buffer.Length)), offset);
                if (read == 0)
                    throw new IOException($"{Path}: unexpected end of file at {offset}");
                crc = Crc32C.Append(crc, buffer.AsSpan(0, read));
                offset += read;
                length -= read;
            }
            return Crc32C.Finish(crc);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
