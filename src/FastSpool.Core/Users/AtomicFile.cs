using System.Text;
using FastSpool.Posix;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Users;

/// <summary>Replaces a small file so that after a crash either the old or the new contents are there, never a mix:
/// write a temporary file, fsync it, rename it over the target, fsync the directory so the rename is durable.</summary>
internal static class AtomicFile
{
    public static void Replace(string path, string temporaryPath, string contents)
    {
        // A temporary file left by a crash may carry another mode; start from a fresh one.
        File.Delete(temporaryPath);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = PrivateModes.File; // the users file holds password hashes
        using (var stream = new FileStream(temporaryPath, options))
        {
            // UnixCreateMode is filtered by the umask; set the mode itself so an odd umask cannot widen or break it.
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(stream.SafeFileHandle, PrivateModes.File);
            stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(contents));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporaryPath, path, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>.NET cannot open a directory as a stream, so the directory fsync goes through libc.</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return;
        int errno = Libc.Open(directory, OpenFlags.CloseOnExec, 0, out SafeFileHandle? handle);
        if (errno != 0)
            Libc.ThrowIO(directory, "open", errno);
        using (handle)
        {
            errno = Libc.FSync(handle!);
            // Some file systems cannot fsync a directory (EINVAL); their renames are as durable as they get.
            if (errno is not (0 or Errno.EINVAL))
                Libc.ThrowIO(directory, "fsync", errno);
        }
    }
}
