namespace FastSpool.Posix;

/// <summary>The modes of what only the server's user may read or write: the data directory and everything the
/// server keeps in it (the queue holds the text of every message until its segment is reclaimed whole).</summary>
public static class PrivateModes
{
    /// <summary>0600.</summary>
    public const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>0700.</summary>
    public const UnixFileMode Directory = File | UnixFileMode.UserExecute;

    /// <summary>077: every permission of the group and of others; as a umask, what makes new files private.</summary>
    public const UnixFileMode GroupAndOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
}
