using System.Globalization;
using FastSpool.Posix;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server;

/// <summary>Only the server's user may read the data directory: the queue's segments hold the text of every
/// message, delivered ones too, until a segment is reclaimed whole; the users file holds password hashes. New files
/// are private from birth whatever the umask the server was started with, and what an older release or a looser
/// umask left behind is tightened at start.</summary>
internal static class PrivateDataDirectory
{
    private static readonly EnumerationOptions AllEntries = new() { AttributesToSkip = 0, IgnoreInaccessible = false };

    /// <summary>Sets the process's umask to 077 and creates the data directory 0700. The umask covers every file
    /// the server creates from then on, the commit files FASTER creates by itself included.</summary>
    public static void Create(string dataDirectory)
    {
        Libc.SetUmask(PrivateModes.GroupAndOthers);
        Directory.CreateDirectory(dataDirectory, PrivateModes.Directory);
    }

    /// <summary>Takes every group and other permission off the data directory and everything in it, logging each
    /// change. Symbolic links inside are not followed. The mail directory, when it is inside, is left as it is:
    /// mailboxes have rules of their own (created 0600 by delivery, never changed by it).</summary>
    public static void Tighten(string dataDirectory, string mailDirectory, ILogger log)
    {
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory));
        string mail = Path.TrimEndingDirectorySeparator(Path.GetFullPath(mailDirectory));
        // The data directory itself may be a link the admin made to where the data lives.
        Tighten(root, File.GetUnixFileMode(root), log);
        var directories = new Stack<string>();
        directories.Push(root);
        while (directories.TryPop(out string? directory))
        {
            foreach (string path in Directory.EnumerateFileSystemEntries(directory, "*", AllEntries))
            {
                if (Libc.LStat(path, out UnixFileStatus status) != 0 || status.Type == UnixFileType.SymbolicLink || path == mail)
                    continue; // gone since it was listed, a link, or the mailboxes
                Tighten(path, status.Mode, log);
                if (status.Type == UnixFileType.Directory)
                    directories.Push(path);
            }
        }
    }

    private static void Tighten(string path, UnixFileMode mode, ILogger log)
    {
        UnixFileMode tight = mode & ~PrivateModes.GroupAndOthers;
        if (tight == mode)
            return;
        File.SetUnixFileMode(path, tight);
        log.LogWarning("{Path}: mode {Old} tightened to {New}: the data directory is private to the server's user", path, Octal(mode), Octal(tight));
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');
}
