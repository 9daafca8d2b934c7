using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Posix;

/// <summary>The few glibc calls that .NET does not expose the way mail delivery needs them: O_NOFOLLOW/O_EXCL
/// opens, statx without following links, open-file-description locks, posix_fallocate and shared mappings.
/// Every call returns 0 or the errno value (the convention of <c>posix_fallocate</c>) and never throws, because
/// most failures here (EEXIST, ELOOP, EAGAIN) are expected answers; <see cref="ThrowIO"/> turns the unexpected
/// ones into an <see cref="IOException"/>. EINTR is retried.</summary>
public static partial class Libc
{
    private const string Library = "libc";

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7FF;

    private const int FOfdSetLock = 37;
    private const short SeekSet = 0;

    private const int ProtRead = 0x1;
    private const int ProtWrite = 0x2;
    private const int MapShared = 0x1;

    /// <summary><c>open(2)</c>. On success <paramref name="handle"/> owns the descriptor.</summary>
    public static int Open(string path, OpenFlags flags, UnixFileMode mode, out SafeFileHandle? handle)
    {
        int fd;
        int errno;
        do
        {
            fd = open(path, (int)flags, (uint)mode);
            errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
        while (errno == Errno.EINTR);
        handle = fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
        return errno;
    }

    /// <summary><c>fstat(2)</c>, through <c>statx</c> with AT_EMPTY_PATH.</summary>
    public static unsafe int FStat(SafeFileHandle handle, out UnixFileStatus status)
    {
        Statx buffer = default;
        int errno = ErrnoOf(statx(handle, "", AtEmptyPath, StatxBasicStats, &buffer));
        status = errno == 0 ? buffer.ToStatus() : default;
        return errno;
    }

    /// <summary><c>lstat(2)</c>, through <c>statx</c> with AT_SYMLINK_NOFOLLOW.</summary>
    public static unsafe int LStat(string path, out UnixFileStatus status)
    {
        Statx buffer = default;
        int errno = ErrnoOf(statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, &buffer));
        status = errno == 0 ? buffer.ToStatus() : default;
        return errno;
    }

    /// <summary><c>stat(2)</c>, through <c>statx</c>: follows symbolic links. Allocates nothing for paths of
    /// ordinary length, so a file can be watched from a hot path.</summary>
    public static unsafe int Stat(string path, out UnixFileStatus status)
    {
        Statx buffer = default;
        int errno = ErrnoOf(statx(AtFdCwd, path, 0, StatxBasicStats, &buffer));
        status = errno == 0 ? buffer.ToStatus() : default;
        return errno;
    }

    /// <summary><c>fchown(2)</c>: gives the open file to <paramref name="userId"/> and <paramref name="groupId"/>;
    /// EPERM without CAP_CHOWN.</summary>
    public static int FChown(SafeFileHandle handle, uint userId, uint groupId)
    {
        int errno;
        do errno = ErrnoOf(fchown(handle, userId, groupId));
        while (errno == Errno.EINTR);
        return errno;
    }

    /// <summary><c>fchmod(2)</c>: sets the open file's mode exactly, whatever the umask.</summary>
    public static int FChmod(SafeFileHandle handle, UnixFileMode mode)
    {
        int errno;
        do errno = ErrnoOf(fchmod(handle, (uint)mode));
        while (errno == Errno.EINTR);
        return errno;
    }

    /// <summary>Sets or clears an open-file-description lock without waiting (<c>F_OFD_SETLK</c>); EAGAIN or
    /// EACCES means another holder. OFD locks conflict with classic <c>F_SETLK</c> locks (mutt, mailx) and, unlike
    /// those, also between two opens in one process. <paramref name="length"/> 0 means "to the end of the file,
    /// however it grows".</summary>
    public static int OfdSetLock(SafeFileHandle handle, FileLockType type, long start = 0, long length = 0)
    {
        var request = new Flock { Type = (short)type, Whence = SeekSet, Start = start, Length = length, ProcessId = 0 };
        int errno;
        do errno = ErrnoOf(fcntl(handle, FOfdSetLock, ref request));
        while (errno == Errno.EINTR);
        return errno;
    }

    /// <summary><c>posix_fallocate(3)</c>: reserves the blocks, so that writing a mapping of them later cannot
    /// fail with SIGBUS for lack of space, and extends the file size when needed.</summary>
    public static int PosixFallocate(SafeFileHandle handle, long offset, long length)
    {
        int errno;
        do errno = posix_fallocate(handle, offset, length); // returns the error number; errno is not set
        while (errno == Errno.EINTR);
        return errno;
    }

    /// <summary><c>ftruncate(2)</c>.</summary>
    public static int FTruncate(SafeFileHandle handle, long length)
    {
        int errno;
        do errno = ErrnoOf(ftruncate(handle, length));
        while (errno == Errno.EINTR);
        return errno;
    }

    /// <summary><c>mmap(2)</c> of a shared, readable and writable view; <paramref name="offset"/> must be a
    /// multiple of <see cref="Environment.SystemPageSize"/>.</summary>
    public static int MMap(SafeFileHandle handle, long offset, nuint length, out nint address)
    {
        address = mmap(0, length, ProtRead | ProtWrite, MapShared, handle, offset);
        if (address != -1) // MAP_FAILED
            return 0;
        address = 0;
        return Marshal.GetLastPInvokeError();
    }

    /// <summary><c>mmap(2)</c> of a shared, read-only view (a reader's: the file's own pages, no copy);
    /// <paramref name="offset"/> must be a multiple of <see cref="Environment.SystemPageSize"/>.</summary>
    public static int MMapRead(SafeFileHandle handle, long offset, nuint length, out nint address)
    {
        address = mmap(0, length, ProtRead, MapShared, handle, offset);
        if (address != -1) // MAP_FAILED
            return 0;
        address = 0;
        return Marshal.GetLastPInvokeError();
    }

    /// <summary><c>munmap(2)</c>.</summary>
    public static int MUnmap(nint address, nuint length) => ErrnoOf(munmap(address, length));

    /// <summary><c>madvise(MADV_DONTNEED)</c> on the pages of a file's shared mapping that hold
    /// [<paramref name="address"/>, + <paramref name="length"/>): they leave the process's resident set and stay in
    /// the page cache; a later read maps them again. The range is widened to whole pages.</summary>
    public static int MAdviseDontNeed(nint address, nuint length)
    {
        nint page = Environment.SystemPageSize;
        nint start = address & ~(page - 1);
        nint end = (address + (nint)length + page - 1) & ~(page - 1);
        return end > start ? ErrnoOf(madvise(start, (nuint)(end - start), MadvDontNeed)) : 0;
    }

    /// <summary><c>fsync(2)</c>.</summary>
    public static int FSync(SafeFileHandle handle)
    {
        int errno;
        do errno = ErrnoOf(fsync(handle));
        while (errno == Errno.EINTR);
        return errno;
    }

    /// <summary><c>syncfs(2)</c>: everything of the file system that holds the file, its directories included (for a
    /// directory that cannot be opened to fsync it).</summary>
    public static int SyncFs(SafeFileHandle handle) => ErrnoOf(syncfs(handle));

    /// <summary><c>fdatasync(2)</c>: the data and what is needed to read it back (the size), not the times.</summary>
    public static int FDataSync(SafeFileHandle handle)
    {
        int errno;
        do errno = ErrnoOf(fdatasync(handle));
        while (errno == Errno.EINTR);
        return errno;
    }

    /// <summary><c>mkdir(2)</c>; the mode is reduced by the umask.</summary>
    public static int MkDir(string path, UnixFileMode mode) => ErrnoOf(mkdir(path, (uint)mode));

    /// <summary><c>link(2)</c>: a second name for a file; fails with EEXIST when the new name exists.</summary>
    public static int Link(string existing, string newPath) => ErrnoOf(link(existing, newPath));

    /// <summary><c>unlink(2)</c>.</summary>
    public static int Unlink(string path) => ErrnoOf(unlink(path));

    /// <summary><c>rename(2)</c>: atomically replaces <paramref name="newPath"/>, whatever kind of file it names
    /// (but a directory).</summary>
    public static int Rename(string oldPath, string newPath) => ErrnoOf(rename(oldPath, newPath));

    /// <summary>The account name of <paramref name="uid"/> from the name service (<c>getpwuid_r</c>, so NIS and
    /// LDAP accounts count too), or null when it has none.</summary>
    public static unsafe string? UserNameOf(uint uid)
    {
        Passwd entry;
        Passwd* found;
        // sysconf(_SC_GETPW_R_SIZE_MAX) is only a hint; grow on ERANGE as the man page says.
        for (int size = 1024; size <= 1 << 20; size *= 4)
        {
            byte[] buffer = new byte[size];
            int errno;
            fixed (byte* text = buffer)
            {
                do errno = getpwuid_r(uid, &entry, text, (nuint)size, &found);
                while (errno == Errno.EINTR);
                if (errno == 0)
                    return found is null ? null : Marshal.PtrToStringUTF8(entry.Name);
            }
            if (errno != Errno.ERANGE)
                return null;
        }
        return null;
    }

    /// <summary>True unless <c>kill(pid, 0)</c> says there is no such process (a process of another user counts
    /// as existing).</summary>
    public static bool ProcessExists(int pid) => pid > 0 && (kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() != Errno.ESRCH);

    /// <summary><c>umask(2)</c>: sets the process's file mode creation mask, for every thread, and returns the one
    /// it replaces.</summary>
    public static UnixFileMode SetUmask(UnixFileMode mask) => (UnixFileMode)umask((uint)mask);

    /// <summary><c>geteuid(2)</c>.</summary>
    public static uint GetEffectiveUserId() => geteuid();

    /// <summary><c>getuid(2)</c>: who ran the program (sendmail names the submitter by it, as Postfix's does).</summary>
    public static uint GetRealUserId() => getuid();

    /// <summary><c>kill(2)</c>: 0 or the errno.</summary>
    public static int Kill(int pid, int signal) => ErrnoOf(kill(pid, signal));

    /// <summary><c>getegid(2)</c>.</summary>
    public static uint GetEffectiveGroupId() => getegid();

    /// <summary>The <c>strerror</c> text for an errno value.</summary>
    public static string ErrorMessage(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>Describes a failed call: <c>PATH: OPERATION: strerror text</c>.</summary>
    public static string Describe(string path, string operation, int errno) =>
        $"{path}: {operation}: {ErrorMessage(errno)}";

    /// <summary>Throws an <see cref="IOException"/> (HResult = errno) with <see cref="Describe"/>'s message, for
    /// failures that are not expected answers.</summary>
    [DoesNotReturn]
    public static void ThrowIO(string path, string operation, int errno) =>
        throw new IOException(Describe(path, operation, errno), errno);

    private static int ErrnoOf(int result) => result == -1 ? Marshal.GetLastPInvokeError() : 0;

    // open and fcntl are variadic in C. On the Linux ABIs we run on (x86_64, arm64) a variadic integer or pointer
    // argument is passed exactly like a fixed one, so a fixed-arity import is correct there.
    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, uint mode);

    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int fcntl(SafeFileHandle fd, int command, ref Flock request);

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(SafeFileHandle directory, string path, int flags, uint mask, Statx* buffer);

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int directory, string path, int flags, uint mask, Statx* buffer);

    [LibraryImport(Library, EntryPoint = "posix_fallocate")]
    private static partial int posix_fallocate(SafeFileHandle fd, long offset, long length);

    [LibraryImport(Library, EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int ftruncate(SafeFileHandle fd, long length);

    [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, SafeFileHandle fd, long offset);

    [LibraryImport(Library, EntryPoint = "munmap", SetLastError = true)]
    private static partial int munmap(nint address, nuint length);

    private const int MadvDontNeed = 4;

    [LibraryImport(Library, EntryPoint = "madvise", SetLastError = true)]
    private static partial int madvise(nint address, nuint length, int advice);


    [LibraryImport(Library, EntryPoint = "fsync", SetLastError = true)]
    private static partial int fsync(SafeFileHandle fd);

    [LibraryImport(Library, EntryPoint = "syncfs", SetLastError = true)]
    private static partial int syncfs(SafeFileHandle fd);

    [LibraryImport(Library, EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int fdatasync(SafeFileHandle fd);

    [LibraryImport(Library, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkdir(string path, uint mode);

    [LibraryImport(Library, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string existing, string newPath);

    [LibraryImport(Library, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unlink(string path);

    [LibraryImport(Library, EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rename(string oldPath, string newPath);

    [LibraryImport(Library, EntryPoint = "getpwuid_r")]
    private static unsafe partial int getpwuid_r(uint uid, Passwd* entry, byte* buffer, nuint size, Passwd** result);

    [LibraryImport(Library, EntryPoint = "kill", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    [LibraryImport(Library, EntryPoint = "umask")]
    private static partial uint umask(uint mask);

    [LibraryImport(Library, EntryPoint = "fchown", SetLastError = true)]
    private static partial int fchown(SafeFileHandle fd, uint owner, uint group);

    [LibraryImport(Library, EntryPoint = "fchmod", SetLastError = true)]
    private static partial int fchmod(SafeFileHandle fd, uint mode);

    [LibraryImport(Library, EntryPoint = "getegid")]
    private static partial uint getegid();

    [LibraryImport(Library, EntryPoint = "geteuid")]
    private static partial uint geteuid();

    [LibraryImport(Library, EntryPoint = "getuid")]
    private static partial uint getuid();
}
