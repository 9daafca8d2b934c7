using FastSpool.Queue;

namespace FastSpool.Delivery.Control;

/// <param name="Address">Forward path without angle brackets.</param>
/// <param name="OriginalRecipient">RFC 3461 ORCPT as given (<c>rfc822;user@example.org</c>), or null.</param>
/// <param name="Notify">RFC 3461 NOTIFY as given (<c>NEVER</c>, <c>SUCCESS,FAILURE</c>), or null for the default.</param>
/// <param name="NextAttempt">For a deferred recipient, when it is tried next.</param>
/// <param name="LastReply">The last attempt's result (for a deferral, its reason).</param>
/// <param name="History">Every state change, oldest first (shown by <c>queue show</c>; may be empty in lists).</param>
public sealed record RecipientView(
    int Index,
    string Address,
    string? OriginalRecipient,
    string? Notify,
    RecipientStatus Status,
    int Attempts,
    DateTimeOffset? NextAttempt,
    DeliveryReply? LastReply,
    IReadOnlyList<RecipientEvent> History);
