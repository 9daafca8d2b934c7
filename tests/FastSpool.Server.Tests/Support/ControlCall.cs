namespace FastSpool.Server.Tests.Support;

/// <summary>One call of a verb on <see cref="FakeQueueControl"/>.</summary>
internal sealed record ControlCall(string Verb, IReadOnlyList<string> Ids, bool Bounce, string Who);
