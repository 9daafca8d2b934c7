using System.Diagnostics;

namespace FastSpool.Server.Tests.Support;

/// <summary>A small tmpfs that can be filled, to make the queue's disk full for real (needs root).</summary>
internal sealed class SmallDisk : IDisposable
{
    public static readonly bool CanMount = Probe();

    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    public static SmallDisk Mount(int megabytes)
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fastspool-disk-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        Assert.Equal(0, Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0700", "tmpfs", path));
        return new SmallDisk(path);
    }

    /// <summary>Writes a filler file until the disk is full.</summary>
    public void Fill()
    {
        using var filler = new FileStream(System.IO.Path.Combine(Path, "filler"), FileMode.Create);
        byte[] block = new byte[64 * 1024];
        try
        {
            while (true)
            {
                filler.Write(block);
                filler.Flush(flushToDisk: true);
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Remounts the disk read-only, as a data directory on a read-only file system is.</summary>
    public void MakeReadOnly() => Assert.Equal(0, Run("mount", "-o", "remount,ro", Path));

    public void Free() => File.Delete(System.IO.Path.Combine(Path, "filler"));

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try
        {
            Directory.Delete(Path);
        }
        catch (IOException)
        {
        }
    }

    private static int Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in args)
            info.ArgumentList.Add(a);
        using Process p = Process.Start(info)!;
        p.WaitForExit();
        return p.ExitCode;
    }

    private static bool Probe()
    {
        try
        {
            using SmallDisk disk = Mount(1);
            return true;
        }
        catch (Exception e) when (e is Xunit.Sdk.XunitException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

/// <summary>A test that needs to mount a filesystem; skipped where that is not permitted.</summary>
internal sealed class SmallDiskFactAttribute : FactAttribute
{
    public SmallDiskFactAttribute()
    {
        if (!SmallDisk.CanMount)
            Skip = "mounting a tmpfs is not permitted here (needs root)";
    }
}
