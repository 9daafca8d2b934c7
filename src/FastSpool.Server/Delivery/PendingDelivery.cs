using FastSpool.Queue;

namespace FastSpool.Server.Delivery;

/// <summary>One recipient of one message, to be appended to one local mailbox.</summary>
internal readonly record struct PendingDelivery(QueuedMessage Message, int Recipient, string Mailbox);
