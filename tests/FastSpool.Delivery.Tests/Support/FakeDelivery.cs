using FastSpool.Queue;

namespace FastSpool.Delivery.Tests.Support;

/// <summary>One item a <see cref="FakeTransport"/> was handed, with the message's body as the queue gave it.</summary>
internal sealed record FakeDelivery(QueueId Id, int Recipient, string Address, string Part, string Sender, bool DoubleBounce, byte[] Body);
