namespace FastSpool.Delivery.Control;

/// <summary>What a control verb did: the ids it acted on, and the ids the queue does not hold.</summary>
public sealed record ControlResult(IReadOnlyList<string> Done, IReadOnlyList<string> Unknown);
