using System.Text.Json;
using System.Text.Json.Serialization;
using FastSpool.Delivery.Control;
using FastSpool.Queue;

namespace FastSpool.Server.Admin;

/// <summary>The admin endpoint's JSON, generated at build time (no reflection, trimming-safe); the server and the
/// <c>fastspool</c> verbs share it, so both sides agree on every name. Property names are camelCase, enum values
/// lowercase, absent values left out.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(LowerCaseEnumConverter<RecipientStatus>)])]
[JsonSerializable(typeof(QueueListing))]
[JsonSerializable(typeof(MessageDetails))]
[JsonSerializable(typeof(ControlRequest))]
[JsonSerializable(typeof(ControlResult))]
[JsonSerializable(typeof(QueueCounters))]
[JsonSerializable(typeof(AdminError))]
public sealed partial class AdminJsonContext : JsonSerializerContext;
