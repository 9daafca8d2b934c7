using FastSpool.Queue;

namespace FastSpool.Delivery.Transport;

public enum DeliveryResultKind : byte
{
    Sent,

    /// <summary>Try again later (4xx).</summary>
    Temporary,

    /// <summary>Never going to work (5xx): the recipient bounces.</summary>
    Permanent,
}

/// <summary>A transport's answer for one item.</summary>
/// <param name="NotificationsPassedOn">Sent to a server that took the DSN request on (RFC 3461 §4.1): it, not we,
/// reports success. Otherwise a relayed recipient with NOTIFY=SUCCESS gets a "relayed" notice from us.</param>
/// <param name="Recorded">The transport appended the part's done record to the queue itself, as soon as the item was
/// sent (before the rest of its batch): the queue manager does not append it again.</param>
public readonly record struct DeliveryResult(DeliveryResultKind Kind, DeliveryReply Reply, bool NotificationsPassedOn = false, bool Recorded = false)
{
    public static DeliveryResult Sent(string text, string? remoteHost = null) =>
        new(DeliveryResultKind.Sent, new DeliveryReply(250, "2.0.0", text, remoteHost));

    public static DeliveryResult Temporary(string enhancedStatus, string text, int code = 450, string? remoteHost = null) =>
        new(DeliveryResultKind.Temporary, new DeliveryReply(code, enhancedStatus, text, remoteHost));

    public static DeliveryResult Permanent(string enhancedStatus, string text, int code = 550, string? remoteHost = null) =>
        new(DeliveryResultKind.Permanent, new DeliveryReply(code, enhancedStatus, text, remoteHost));
}
