namespace FastSpool.Users;

/// <summary>What a reader compares to notice that a file changed. Writers replace files by rename, so a change of
/// content shows as a new modification time or length.</summary>
internal readonly record struct FileIdentity(bool Exists, long LastWriteTicks, long Length)
{
    public static FileIdentity Of(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new FileIdentity(true, info.LastWriteTimeUtc.Ticks, info.Length) : default;
    }
}
