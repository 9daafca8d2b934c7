using FastSpool.Posix;

namespace FastSpool.Users;

/// <summary>What a reader compares to notice that a file changed. Writers replace files by rename, so a change of
/// content shows as a new inode, modification time or length.</summary>
internal readonly record struct FileIdentity(bool Exists, ulong Inode, DateTimeOffset LastWrite, long Length)
{
    /// <summary>One <c>stat</c> (following links, as /etc/aliases may be one); allocates nothing.</summary>
    public static FileIdentity Of(string path) =>
        Libc.Stat(path, out UnixFileStatus status) == 0
            ? new FileIdentity(true, status.Inode, status.ModificationTime, status.Size)
            : default;
}
