namespace FastSpool.Bench.Delivery;

internal static class DeliveredCounter
{
    /// <summary>A directory is counted by files, anything else (existing or not yet) as an mbox file.</summary>
    public static IDeliveredCounter Open(string path) =>
        Directory.Exists(path) ? new DirectoryCounter(path) : new MboxCounter(path);
}
