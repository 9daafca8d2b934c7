using FastSpool.Delivery.Tests.Support;
using FastSpool.Posix;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Delivery.Tests.Posix;

public sealed class LibcTests : IDisposable
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void OpenCreatesAFileAndExclusiveOpenReportsEexist()
    {
        string path = _directory.Combine("file");
        const OpenFlags flags = OpenFlags.ReadWrite | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.CloseOnExec;

        Assert.Equal(0, Libc.Open(path, flags, Mode0600, out SafeFileHandle? created));
        using (created)
        {
            Assert.False(created!.IsInvalid);
            Assert.Equal(Errno.EEXIST, Libc.Open(path, flags, Mode0600, out SafeFileHandle? second));
            Assert.Null(second);
        }
        Assert.Equal(Mode0600, File.GetUnixFileMode(path));
    }

    [Fact]
    public void OpenWithNoFollowReportsEloopForASymbolicLink()
    {
        string target = _directory.Combine("target");
        File.WriteAllText(target, "x");
        string link = _directory.Combine("link");
        File.CreateSymbolicLink(link, target);

        Assert.Equal(Errno.ELOOP, Libc.Open(link, OpenFlags.ReadWrite | OpenFlags.NoFollow, 0, out SafeFileHandle? handle));
        Assert.Null(handle);
    }

    [Fact]
    public void FStatAndLStatDescribeTheFile()
    {
        string path = _directory.Combine("file");
        File.WriteAllText(path, "12345");
        File.SetUnixFileMode(path, Mode0600);
        string link = _directory.Combine("link");
        File.CreateSymbolicLink(link, path);

        Assert.Equal(0, Libc.Open(path, OpenFlags.None, 0, out SafeFileHandle? handle));
        using (handle)
        {
            Assert.Equal(0, Libc.FStat(handle!, out UnixFileStatus status));
            Assert.Equal(UnixFileType.RegularFile, status.Type);
            Assert.Equal(Mode0600, status.Mode);
            Assert.Equal(1u, status.LinkCount);
            Assert.Equal(Libc.GetEffectiveUserId(), status.OwnerId);
            Assert.Equal(5, status.Size);
            Assert.InRange(status.ModificationTime, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));

            Assert.Equal(0, Libc.LStat(path, out UnixFileStatus named));
            Assert.True(named.IsSameFile(status));
            Assert.Equal(status, named);

            Assert.Equal(0, Libc.LStat(link, out UnixFileStatus linkStatus));
            Assert.Equal(UnixFileType.SymbolicLink, linkStatus.Type);
            Assert.False(linkStatus.IsSameFile(status));
        }
        Assert.Equal(0, Libc.LStat(_directory.Path, out UnixFileStatus directory));
        Assert.Equal(UnixFileType.Directory, directory.Type);
        Assert.Equal(Errno.ENOENT, Libc.LStat(_directory.Combine("missing"), out _));
    }

    [Fact]
    public void OfdLocksConflictBetweenTwoOpensInOneProcess()
    {
        string path = _directory.Combine("file");
        File.WriteAllText(path, "");
        Assert.Equal(0, Libc.Open(path, OpenFlags.ReadWrite, 0, out SafeFileHandle? first));
        Assert.Equal(0, Libc.Open(path, OpenFlags.ReadWrite, 0, out SafeFileHandle? second));
        using (first)
        using (second)
        {
            Assert.Equal(0, Libc.OfdSetLock(first!, FileLockType.Write));
            Assert.Equal(Errno.EAGAIN, Libc.OfdSetLock(second!, FileLockType.Write));
            Assert.Equal(Errno.EAGAIN, Libc.OfdSetLock(second!, FileLockType.Read));
            Assert.Equal(0, Libc.OfdSetLock(first!, FileLockType.Unlock));
            Assert.Equal(0, Libc.OfdSetLock(second!, FileLockType.Write));
        }
    }

    [Fact]
    public void PosixFallocateExtendsTheFileAndReturnsTheErrorNumber()
    {
        string path = _directory.Combine("file");
        File.WriteAllText(path, "abc");
        Assert.Equal(0, Libc.Open(path, OpenFlags.ReadWrite, 0, out SafeFileHandle? handle));
        using (handle)
        {
            Assert.Equal(0, Libc.PosixFallocate(handle!, 3, 10000));
            Assert.Equal(0, Libc.FStat(handle!, out UnixFileStatus status));
            Assert.Equal(10003, status.Size);
            Assert.Equal(0, Libc.FTruncate(handle!, 3));
            Assert.Equal(0, Libc.FSync(handle!));
        }
        Assert.Equal("abc", File.ReadAllText(path));

        Assert.Equal(0, Libc.Open(path, OpenFlags.None, 0, out SafeFileHandle? readOnly));
        using (readOnly)
            Assert.Equal(Errno.EBADF, Libc.PosixFallocate(readOnly!, 0, 10));
    }

    [Fact]
    public unsafe void MMapWritesReachTheFile()
    {
        string path = _directory.Combine("file");
        File.WriteAllText(path, "");
        Assert.Equal(0, Libc.Open(path, OpenFlags.ReadWrite, 0, out SafeFileHandle? handle));
        using (handle)
        {
            int page = Environment.SystemPageSize;
            Assert.Equal(0, Libc.PosixFallocate(handle!, 0, page + 5));
            Assert.Equal(0, Libc.MMap(handle!, page, 5, out nint address));
            "hello"u8.CopyTo(new Span<byte>((void*)address, 5));
            Assert.Equal(0, Libc.MUnmap(address, 5));

            Assert.Equal(Errno.EINVAL, Libc.MMap(handle!, 1, 5, out nint misaligned));
            Assert.Equal(0, misaligned);
        }
        byte[] contents = File.ReadAllBytes(path);
        Assert.Equal("hello"u8.ToArray(), contents[^5..]);
    }

    [Fact]
    public void MkDirAndUnlinkReportErrors()
    {
        string directory = _directory.Combine("dir");
        Assert.Equal(0, Libc.MkDir(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
        Assert.Equal(Errno.EEXIST, Libc.MkDir(directory, UnixFileMode.UserRead));
        Assert.Equal(Errno.ENOENT, Libc.Unlink(_directory.Combine("missing")));
        Assert.Equal(Errno.EISDIR, Libc.Unlink(directory));
    }

    [Fact]
    public void RenameReplacesTheTargetAtomically()
    {
        string from = _directory.Combine("from");
        string to = _directory.Combine("to");
        File.WriteAllText(from, "new");
        File.WriteAllText(to, "old");
        Assert.Equal(0, Libc.Rename(from, to));
        Assert.Equal("new", File.ReadAllText(to));
        Assert.False(File.Exists(from));
        Assert.Equal(Errno.ENOENT, Libc.Rename(from, to));
    }

    [Fact]
    public void UserNameOfFindsTheAccountOrNothing()
    {
        Assert.Equal("root", Libc.UserNameOf(0));
        Assert.Null(Libc.UserNameOf(4_000_000_000)); // far above any allocated uid
    }

    [Fact]
    public void ErrorsAreDescribedWithThePathAndTheSystemMessage()
    {
        Assert.Equal("No such file or directory", Libc.ErrorMessage(Errno.ENOENT));
        Assert.Equal("/x: open: Permission denied", Libc.Describe("/x", "open", Errno.EACCES));
        var exception = Assert.Throws<IOException>(() => Libc.ThrowIO("/var/mail/a", "fsync", Errno.ENOSPC));
        Assert.Equal("/var/mail/a: fsync: No space left on device", exception.Message);
        Assert.Equal(Errno.ENOSPC, exception.HResult);
    }
}
