using System.Buffers;
using FastSpool.Posix;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Delivery.Mbox;

/// <summary>An mbox file held for appending the way Postfix local(8) does it: under the MUAs' locks
/// (<see cref="MailboxLock"/>), append and fsync, and on any error truncate back to the length it had.</summary>
/// <remarks>Each append is one or more whole mbox entries, so it starts with <c>From </c>; <see cref="CheckRegion"/>
/// relies on that.</remarks>
public sealed class MailboxFile : IDisposable
{
    /// <summary>A dotlock older than this was left by a writer that died (the MUAs' convention).</summary>
    public static TimeSpan StaleLockAge => MailboxLock.StaleLockAge;

    /// <summary>The mode of a new mailbox unless told otherwise: Postfix's.</summary>
    public const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const int ChecksumBufferSize = 64 * 1024;

    private readonly MailboxLock _lock;
    private readonly bool _ownsLock;
    private readonly SafeFileHandle _handle;
    private bool _faulted;

    private MailboxFile(MailboxLock held, bool ownsLock, long length)
    {
        _lock = held;
        _ownsLock = ownsLock;
        _handle = held.Handle;
        Path = held.Path;
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

    /// <summary>Appends to a mailbox that another holder (a POP3 session) has locked: the locks stay the holder's,
    /// and <see cref="Dispose"/> leaves them. The caller keeps the holder from touching the file meanwhile.</summary>
    public static MailboxFile OpenHeld(MailboxLock held)
    {
        int errno = Libc.FStat(held.Handle, out UnixFileStatus status);
        if (errno != 0)
            Libc.ThrowIO(held.Path, "fstat", errno);
        return new MailboxFile(held, ownsLock: false, status.Size);
    }

    /// <summary>Called between the look at the name and the open, with the path: lets a test swap the file there,
    /// as an attacker racing the server would.</summary>
    internal static Action<string>? BeforeOpen
    {
        get => MailboxLock.BeforeOpen;
        set => MailboxLock.BeforeOpen = value;
    }

    private static MailboxOpenResult Open(string path, MailboxOwner owner, UnixFileMode mode, bool create, TimeSpan lockTimeout,
        out MailboxFile? mailbox, out string? error)
    {
        MailboxOpenResult result = MailboxLock.TryAcquire(path, owner, mode, create, lockTimeout, out MailboxLock? held, out error);
        mailbox = result == MailboxOpenResult.Opened ? new MailboxFile(held!, ownsLock: true, held!.Length) : null;
        return result;
    }

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

    /// <summary>Releases the locks and closes the file, unless they belong to another holder
    /// (<see cref="OpenHeld"/>).</summary>
    public void Dispose()
    {
        if (_ownsLock)
            _lock.Dispose();
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
