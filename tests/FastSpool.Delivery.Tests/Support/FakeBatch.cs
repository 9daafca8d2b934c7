namespace FastSpool.Delivery.Tests.Support;

/// <summary>One call of <see cref="FakeTransport.DeliverAsync"/>: when (on the fake clock), where, and what.</summary>
internal sealed record FakeBatch(DateTimeOffset Time, string Destination, IReadOnlyList<FakeDelivery> Items);
