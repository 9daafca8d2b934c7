namespace FastSpool.Queue;

/// <summary>Settings of the log under the queue (configuration section <c>Queue</c>).</summary>
public sealed class QueueLogOptions
{
    /// <summary>Directory of the segment and commit files.</summary>
    public string Directory { get; set; } = "";

    /// <summary>Log page size as a power of two. A record must fit in a page; chunks are far smaller.</summary>
    public int PageSizeBits { get; set; } = 22;

    /// <summary>In-memory part of the log as a power of two; it must hold the bytes in flight.</summary>
    public int MemorySizeBits { get; set; } = 25;

    /// <summary>Segment file size as a power of two. Space is reclaimed in whole segments.</summary>
    public int SegmentSizeBits { get; set; } = 27;

    /// <summary>Write commit records into the log and the commit file only every <see cref="CommitFileInterval"/>
    /// commits: far fewer synchronous writes per commit, a slightly longer recovery scan.</summary>
    public bool FastCommit { get; set; } = true;

    public int CommitFileInterval { get; set; } = 1000;
}
