using System.Globalization;

namespace FastSpool.Tests;

/// <summary>What of a file this process keeps resident, from <c>/proc/self/smaps</c>.</summary>
public static class ResidentMemory
{
    /// <summary>The resident kilobytes of this process's mappings of <paramref name="path"/>; throws when the process
    /// maps no such file (so that a path that does not match cannot pass for "nothing resident").</summary>
    public static long OfMappedFile(string path)
    {
        long total = 0;
        bool inside = false, found = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
                continue;
            if (!fields[0].EndsWith(':')) // a mapping's first line: address range, permissions, offset, device, inode, path
            {
                inside = fields.Length >= 6 && fields[5] == path;
                found |= inside;
            }
            else if (inside && fields[0] == "Rss:")
                total += long.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        return found ? total : throw new InvalidOperationException($"{path} is not mapped by this process");
    }
}
