using FastSpool.Delivery.Control;

namespace FastSpool.Server.Admin;

/// <summary>The answer to <c>GET /queue/{id}</c>: the message with its recipients' history, and its header section
/// as received (CRLF line ends).</summary>
public sealed record MessageDetails(QueuedMessageView Message, string Headers);
