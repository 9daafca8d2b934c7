using FastSpool.Protocols.Smtp;
namespace FastSpool.Queue;

/// <summary>What a door (SMTP session, sendmail, fetch, a notice or a forward) tells the queue about a message when
/// it commits it. Text fields are UTF-8 bytes in the door's own buffers until the envelope record is written.</summary>
public readonly ref struct SubmissionEnvelope
{
    /// <summary>Reverse path without angle brackets; empty for the null sender.</summary>
    public required ReadOnlySpan<byte> Sender { get; init; }

    public required RecipientList Recipients { get; init; }

    public MessageOrigin Origin { get; init; }

    public ReadOnlySpan<byte> ClientAddress { get; init; }

    public ReadOnlySpan<byte> ClientHelo { get; init; }

    public ReadOnlySpan<byte> AuthenticatedName { get; init; }

    /// <summary>RFC 3461 ENVID, xtext decoded.</summary>
    public ReadOnlySpan<byte> EnvelopeId { get; init; }

    public DsnReturn Return { get; init; }

    public bool EightBitMime { get; init; }

    public bool SmtpUtf8 { get; init; }

    public bool DoubleBounce { get; init; }

    /// <summary>For a delivery status notification: the message and recipients it reports on.</summary>
    public DeliveryReport? Reports { get; init; }
}

/// <summary>Which recipients of which message a notice reports on (recorded in the notice's envelope).</summary>
public sealed record DeliveryReport(QueueId Original, DeliveryReportKind Kind, int[] Recipients);
