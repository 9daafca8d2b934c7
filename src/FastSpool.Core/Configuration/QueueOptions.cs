namespace FastSpool.Configuration;

/// <summary>Configuration section <c>Queue</c>: the FASTER log under the queue.</summary>
public sealed class QueueOptions
{
    public int PageSizeBits { get; set; } = 22;

    public int MemorySizeBits { get; set; } = 25;

    public int SegmentSizeBits { get; set; } = 27;

    public bool FastCommit { get; set; } = true;

    public int CommitFileInterval { get; set; } = 1000;

    /// <summary>After a commit failure (a full or failing disk), how often to try to reopen the queue. Until then
    /// every transaction is answered 451 4.3.0 and clients keep their mail.</summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(5);
}
