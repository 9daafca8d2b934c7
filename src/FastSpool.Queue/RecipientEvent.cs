namespace FastSpool.Queue;

/// <summary>One state change of a recipient, as <c>queue show</c> lists it.</summary>
public sealed record RecipientEvent(DateTimeOffset Time, RecipientStatus Status, DeliveryReply? Reply);
