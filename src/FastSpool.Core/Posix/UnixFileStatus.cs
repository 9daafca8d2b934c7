namespace FastSpool.Posix;

/// <summary>The part of <c>struct statx</c> that mailbox checks need.</summary>
public readonly record struct UnixFileStatus(
    UnixFileType Type,
    UnixFileMode Mode,
    uint LinkCount,
    uint OwnerId,
    long Size,
    ulong Device,
    ulong Inode,
    DateTimeOffset ModificationTime,
    uint GroupId = 0)
{
    /// <summary>True when both name the same file (same device and inode).</summary>
    public bool IsSameFile(in UnixFileStatus other) => Device == other.Device && Inode == other.Inode;
}
