namespace FastSpool.Queue;

/// <summary>A transport's answer for one recipient, in SMTP's terms whatever the transport.</summary>
/// <param name="Code">Reply code, e.g. 250, 450, 550.</param>
/// <param name="EnhancedStatus">RFC 3463 status, e.g. <c>2.0.0</c>, <c>4.2.0</c>, <c>5.1.1</c>.</param>
/// <param name="Text">Human-readable reason, as logged in <c>status=deferred (TEXT)</c>.</param>
/// <param name="RemoteHost">The host that gave the reply (relay), or null for local delivery.</param>
public sealed record DeliveryReply(int Code, string EnhancedStatus, string Text, string? RemoteHost = null);
