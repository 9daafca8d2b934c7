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
public readonly record struct DeliveryResult(DeliveryResultKind Kind, DeliveryReply Reply)
{
    public static DeliveryResult Sent(string text, string? remoteHost = null) =>
        new(DeliveryResultKind.Sent, new DeliveryReply(250, "2.0.0", text, remoteHost));

    public static DeliveryResult Temporary(string enhancedStatus, string text, int code = 450, string? remoteHost = null) =>
        new(DeliveryResultKind.Temporary, new DeliveryReply(code, enhancedStatus, text, remoteHost));

    public static DeliveryResult Permanent(string enhancedStatus, string text, int code = 550, string? remoteHost = null) =>
        new(DeliveryResultKind.Permanent, new DeliveryReply(code, enhancedStatus, text, remoteHost));
}
