using FastSpool.Protocols.Smtp;
namespace FastSpool.Queue;

/// <summary>A committed message, as the queue manager knows it: envelope fields, each recipient's state, and where
/// the body is in the log. The body itself stays in the log and is read back for each delivery.</summary>
public sealed class QueuedMessage
{
    public required QueueId Id { get; init; }

    /// <summary>Lowest log address the message needs (its first chunk, or the envelope).</summary>
    public required long FirstAddress { get; set; }

    public long EnvelopeAddress { get; set; }

    public required DateTimeOffset Arrival { get; init; }

    /// <summary>Message size in octets as received (CRLF line ends, dots unstuffed).</summary>
    public required long Size { get; init; }

    /// <summary>Reverse path without angle brackets; empty for the null sender.</summary>
    public required string Sender { get; init; }

    public required QueuedRecipient[] Recipients { get; init; }

    public required long[] ChunkAddresses { get; set; }

    public required string ClientAddress { get; init; }

    public required string ClientHelo { get; init; }

    public MessageOrigin Origin { get; init; } = MessageOrigin.Smtp;

    /// <summary>The name the client authenticated as (SMTP AUTH), or the local user (sendmail), or null.</summary>
    public string? AuthenticatedName { get; init; }

    /// <summary>RFC 3461 ENVID (xtext decoded), or null.</summary>
    public string? EnvelopeId { get; init; }

    public DsnReturn Return { get; init; }

    public bool EightBitMime { get; init; }

    public bool SmtpUtf8 { get; init; }

    /// <summary>A failure notice about a message that had the null sender, sent to the postmaster: if it fails too,
    /// it is logged and dropped (never a bounce of a bounce).</summary>
    public bool DoubleBounce { get; init; }

    /// <summary>Held by an admin: nothing is delivered until released.</summary>
    public bool Held { get; set; }

    /// <summary>The one "delayed" notice was sent.</summary>
    public bool DelayWarned { get; set; }

    /// <summary>Set once the message is finished or deleted; deliveries still queued for it are dropped.</summary>
    public bool Removed { get; set; }

    /// <summary>The message's only record (envelope and whole body), kept in memory from its commit until it is
    /// finished (<see cref="MailQueue.KeepResident"/>); null when its body is read back from the log.</summary>
    internal ResidentCopy? Resident;

    public bool AllFinal
    {
        get
        {
            foreach (QueuedRecipient recipient in Recipients)
            {
                if (!recipient.IsFinal)
                    return false;
            }
            return true;
        }
    }
}
