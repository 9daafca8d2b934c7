using FastSpool.Queue;

namespace FastSpool.Delivery.Transport;

/// <summary>One part of one recipient's delivery: for the local transport, one mailbox the recipient leads to.</summary>
public readonly record struct DeliveryItem(QueuedMessage Message, int Recipient, string Part)
{
    public QueuedRecipient Target => Message.Recipients[Recipient];
}
