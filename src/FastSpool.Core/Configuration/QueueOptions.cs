namespace FastSpool.Configuration;

/// <summary>Configuration section <c>Queue</c>: the FASTER log under the queue.</summary>
public sealed class QueueOptions
{
    public int PageSizeBits { get; set; } = 22;

    public int MemorySizeBits { get; set; } = 25;

    public int SegmentSizeBits { get; set; } = 27;

    public bool FastCommit { get; set; } = true;

    public int CommitFileInterval { get; set; } = 1000;
}
