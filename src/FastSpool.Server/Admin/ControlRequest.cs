using System.Text.Json.Serialization;

namespace FastSpool.Server.Admin;

/// <summary>The body of <c>POST /queue/flush|hold|release|requeue|delete</c>. Either <see cref="Ids"/> or
/// <see cref="All"/> (or, for delete, <see cref="Deferred"/>: every message with a deferred recipient); flush with
/// neither flushes everything, as <c>sendmail -q</c> does. Unknown members are refused, so that a misspelt
/// <c>"id"</c> is an error rather than a request that acts on nothing.</summary>
/// <param name="Bounce">Delete only: the senders get a non-delivery notification.</param>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ControlRequest(IReadOnlyList<string>? Ids = null, bool All = false, bool Deferred = false, bool Bounce = false);
