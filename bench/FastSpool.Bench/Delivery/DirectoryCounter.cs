namespace FastSpool.Bench.Delivery;

/// <summary>
/// Counts files below a directory (one per message, as in a Maildir), beyond those present at the baseline.
/// Files inside directories named <c>tmp</c> are skipped: in a Maildir they are deliveries still being written.
/// </summary>
internal sealed class DirectoryCounter : IDeliveredCounter
{
    private static readonly EnumerationOptions Recursive = new()
    {
        RecurseSubdirectories = true,
        IgnoreInaccessible = true,
        AttributesToSkip = FileAttributes.None,
    };

    private readonly string _path;
    private readonly long _baseline;

    public DirectoryCounter(string path)
    {
        _path = path;
        _baseline = CountFiles();
    }

    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(50);

    public long Count() => Math.Max(0, CountFiles() - _baseline);

    public void Dispose()
    {
    }

    private long CountFiles()
    {
        long files = 0;
        try
        {
            foreach (string file in Directory.EnumerateFiles(_path, "*", Recursive))
            {
                if (!string.Equals(Path.GetFileName(Path.GetDirectoryName(file)), "tmp", StringComparison.Ordinal))
                    files++;
            }
        }
        catch (DirectoryNotFoundException)
        {
            // Deleted under us; count what there was.
        }
        return files;
    }
}
