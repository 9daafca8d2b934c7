using System.Text.Json;
using System.Text.Json.Serialization;

namespace FastSpool.Server.Admin;

/// <summary>Enum values as lowercase strings (<c>"deferred"</c>): a source-generated context can only name a
/// converter type, not pass a naming policy to one.</summary>
public sealed class LowerCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    where TEnum : struct, Enum;
