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

    /// <summary>How long a recipient is retried; after that it bounces with its last reason (Postfix's
    /// maximal_queue_lifetime).</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromDays(5);

    /// <summary>After how long a sender whose mail is still deferred gets one "delayed" notice; zero: never
    /// (Postfix's delay_warning_time).</summary>
    public TimeSpan DelayWarning { get; set; } = TimeSpan.Zero;
}
