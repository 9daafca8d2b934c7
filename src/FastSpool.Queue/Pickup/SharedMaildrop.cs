using System.Security.Cryptography;
using FastSpool.Posix;

namespace FastSpool.Queue.Pickup;

/// <summary>The maildrop of local users who are neither root nor the server's user (Sendmail:SharedMaildrop), for
/// while the server is not running, as Postfix's maildrop was before postdrop: a directory of mode 1733 owned by the
/// server's user. Anyone may add a file; only the server may list the directory, and the sticky bit keeps each
/// user's files from the others. A file is made readable by others (0644, so that a server that does not run as root
/// can read it), which gives nothing away: its name holds 128 random bits, and the directory cannot be listed. The
/// server takes the submitter's uid from the file's owner, which only root can change.</summary>
public static class SharedMaildrop
{
    /// <summary>1733: rwx for the owner, wx for everyone else, sticky.</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.StickyBit | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>0644: a dropped file, readable by the server whatever its user.</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>A name nobody can guess: the time (for the order of pickup) and 128 random bits, with a leading dot
    /// while the file is being written.</summary>
    public static string NewName(DateTime utcNow, bool temporary) =>
        $"{(temporary ? "." : "")}{utcNow:yyyyMMddHHmmssfffffff}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}";

    /// <summary>What is wrong with <paramref name="path"/> as a shared maildrop owned by <paramref name="owner"/>
    /// (a directory, not a link, mode 1733); null when nothing is.</summary>
    public static string? Problem(string path, uint owner)
    {
        int errno = Libc.LStat(path, out UnixFileStatus status);
        if (errno == Errno.ENOENT)
            return $"{path} does not exist (the server makes it when it starts)";
        if (errno != 0)
            return Libc.Describe(path, "lstat", errno);
        if (status.Type != UnixFileType.Directory)
            return $"{path} is not a directory";
        if (status.OwnerId != owner)
            return $"{path} belongs to uid {status.OwnerId}, not to the server's user (uid {owner})";
        if ((status.Mode & (DirectoryMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.SetGroup | UnixFileMode.SetUser)) != DirectoryMode)
            return $"{path} has mode {Convert.ToString((int)status.Mode & 0xFFF, 8)}, not 1733";
        return null;
    }

    /// <summary>For the server, running as <paramref name="owner"/>: makes the directory (1733) if it is missing; a
    /// directory that is there already is only checked, never changed (a wrong path must not make /tmp 1733); null,
    /// or why it cannot be used.</summary>
    public static string? Prepare(string path, uint owner)
    {
        if (Libc.LStat(path, out _) == Errno.ENOENT)
        {
            int errno = Libc.MkDir(path, PrivateModes.Directory);
            if (errno == 0)
            {
                try
                {
                    File.SetUnixFileMode(path, DirectoryMode); // the umask does not touch chmod
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return $"{path}: cannot set its mode to 1733: {e.Message}";
                }
            }
            else if (errno != Errno.EEXIST)
            {
                return Libc.Describe(path, "mkdir", errno);
            }
        }
        return Problem(path, owner);
    }
}
