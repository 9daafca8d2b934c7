namespace FastSpool.Delivery.Bounces;

/// <summary>What a DSN reports about one recipient: one per-recipient status group (RFC 3464 §2.3) and one
/// paragraph of the human-readable part.</summary>
public sealed record DsnRecipient
{
    /// <summary>The address delivery was attempted to, without angle brackets (<c>bob@example.org</c>).</summary>
    public required string FinalRecipient { get; init; }

    /// <summary>RFC 3461 ORCPT as given in the original transaction, already xtext-decoded
    /// (<c>rfc822;bob@example.org</c>), or null when the client gave none.</summary>
    public string? OriginalRecipient { get; init; }

    public required DsnAction Action { get; init; }

    /// <summary>RFC 3463 enhanced status code, <c>class.subject.detail</c> (<c>5.1.1</c>).</summary>
    public required string Status { get; init; }

    /// <summary>The reply that decided this (<c>550 5.1.1 user unknown</c>). Typed <c>smtp</c> when it came from
    /// <see cref="RemoteMta"/>, <c>X-FastSpool</c> when the error is our own.</summary>
    public string? DiagnosticCode { get; init; }

    /// <summary>The host name of the server that gave <see cref="DiagnosticCode"/>; null for local delivery.</summary>
    public string? RemoteMta { get; init; }

    public DateTimeOffset? LastAttempt { get; init; }

    /// <summary>For <see cref="DsnAction.Delayed"/>: when we give up. When null, the request's arrival date plus
    /// its retry lifetime is used if known.</summary>
    public DateTimeOffset? WillRetryUntil { get; init; }

    /// <summary>One line for the human-readable part (<c>mailbox /var/mail/bob is a symbolic link</c>).</summary>
    public required string HumanReason { get; init; }
}
