namespace FastSpool.Configuration;

/// <summary>Configuration section <c>Delivery</c>.</summary>
public sealed class DeliveryOptions
{
    /// <summary>Directory of the mbox files, one per user (default DataDirectory/mail).</summary>
    public string? MailDirectory { get; set; }

    /// <summary>Mailboxes written at the same time.</summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>Most messages appended to one mailbox under one lock and one fsync.</summary>
    public int MaxBatch { get; set; } = 256;

    /// <summary>How long a mailbox's work waits for more messages before it is written: a few milliseconds more
    /// latency for far fewer fsyncs under load. Zero writes at once.</summary>
    public TimeSpan BatchDelay { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>How long to try for a mailbox's locks before the delivery is deferred.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>First retry after a temporary failure; doubled on each failure up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(67);

    /// <summary>Permissions of a new mbox, in octal: 0600 as Postfix's local(8) creates them; 0660 lets a server
    /// that is not root but in the mail directory's group write the mailboxes it gave to their users.</summary>
    public string MailboxMode { get; set; } = "0600";

    /// <summary><see cref="MailboxMode"/> as a mode, or null when it is not an octal mode of read and write bits.</summary>
    public UnixFileMode? ParsedMailboxMode =>
        MailboxMode is { Length: >= 3 and <= 4 } text && text.All(c => c is >= '0' and <= '7')
        && Convert.ToInt32(text, 8) is var mode && (mode & ~0x1B6) == 0 && (mode & 0x180) == 0x180
            ? (UnixFileMode)mode
            : null;
}
