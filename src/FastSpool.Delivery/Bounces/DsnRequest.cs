namespace FastSpool.Delivery.Bounces;

/// <summary>Everything a delivery status notification says about one queued message (RFC 3464 §2.2 per-message
/// fields, plus what the human-readable part and the header section need).</summary>
public sealed record DsnRequest
{
    /// <summary>What Postfix's bounce_size_limit is for: a returned message larger than this is cut down to its
    /// header section.</summary>
    public const long DefaultMaxReturnedSize = 10 * 1024 * 1024;

    /// <summary>Our host name, for <c>Reporting-MTA</c>, the From address and the Message-ID.</summary>
    public required string ReportingMta { get; init; }

    public required string OriginalQueueId { get; init; }

    public required DateTimeOffset ArrivalDate { get; init; }

    /// <summary>RFC 3461 ENVID, xtext-decoded, or null.</summary>
    public string? EnvelopeId { get; init; }

    /// <summary>The original reverse path without angle brackets; empty for the null sender.</summary>
    public required string OriginalSender { get; init; }

    /// <summary>The client the original came from: an IP address (written as an address literal) or a host
    /// name; null to leave <c>Received-From-MTA</c> out.</summary>
    public string? ReceivedFromMta { get; init; }

    /// <summary>RET=FULL: return the whole message in a failure notice, if it is within
    /// <see cref="MaxReturnedSize"/>.</summary>
    public bool ReturnFullMessage { get; init; }

    /// <summary>The date of the notice itself.</summary>
    public required DateTimeOffset Date { get; init; }

    /// <summary>All of one kind: all failed, all delayed, or all delivered, relayed or expanded.</summary>
    public required IReadOnlyList<DsnRecipient> Recipients { get; init; }

    /// <summary>Who the human-readable part tells the reader to write to.</summary>
    public string Postmaster { get; init; } = "postmaster";

    /// <summary>For a delay notice: how long the message has waited; null to count from
    /// <see cref="ArrivalDate"/> to <see cref="Date"/>.</summary>
    public TimeSpan? DelayedFor { get; init; }

    /// <summary>For a delay notice: how long after arrival we keep trying.</summary>
    public TimeSpan? RetryLifetime { get; init; }

    public long MaxReturnedSize { get; init; } = DefaultMaxReturnedSize;

    /// <summary>The envelope recipient of the notice (the original sender, or the postmaster for a message
    /// from the null sender); it becomes the To header.</summary>
    public required string Recipient { get; init; }
}
