namespace FastSpool.Delivery.Tests.Support;

/// <summary>A 64 KiB tmpfs, to make a write fail for real with ENOSPC.</summary>
public sealed class TinyTmpfs : IDisposable
{
    public const int Size = 64 * 1024;

    private readonly TempDirectory _directory = new();

    private TinyTmpfs()
    {
    }

    /// <summary>Whether this process may mount a tmpfs (root, or a container with CAP_SYS_ADMIN).</summary>
    public static readonly bool CanMount = Probe();

    public string Path => _directory.Path;

    public static TinyTmpfs Mount()
    {
        var tmpfs = new TinyTmpfs();
        Tool.RunOrFail("mount", "-t", "tmpfs", "-o", $"size={Size},mode=0700", "tmpfs", tmpfs.Path);
        return tmpfs;
    }

    public void Dispose()
    {
        Tool.Run("umount", Path);
        _directory.Dispose();
    }

    private static bool Probe()
    {
        try
        {
            using var directory = new TempDirectory();
            if (Tool.Run("mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", directory.Path).ExitCode != 0)
                return false;
            Tool.Run("umount", directory.Path);
            return true;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
