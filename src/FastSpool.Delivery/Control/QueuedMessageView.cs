namespace FastSpool.Delivery.Control;

/// <summary>A message as <c>mailq</c> and <c>queue show</c> show it.</summary>
/// <param name="Id">Queue id, 13 upper-case hex digits.</param>
/// <param name="Size">Octets as received (CRLF line ends).</param>
/// <param name="Sender">Reverse path without angle brackets; empty for the null sender.</param>
/// <param name="Origin">The door it came in by: smtp, sendmail, fetch, bounce, forward.</param>
/// <param name="Held">Held by an admin: nothing is delivered until it is released.</param>
/// <param name="Active">A delivery of one of its recipients is under way now.</param>
public sealed record QueuedMessageView(
    string Id,
    DateTimeOffset Arrival,
    long Size,
    string Sender,
    string Origin,
    string? ClientAddress,
    string? ClientHelo,
    string? AuthenticatedName,
    string? EnvelopeId,
    bool ReturnFullMessage,
    bool Held,
    bool Active,
    IReadOnlyList<RecipientView> Recipients);
