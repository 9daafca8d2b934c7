using System.Text.Json.Serialization;

namespace FastSpool.Bench.Stats;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(SmtpReport))]
[JsonSerializable(typeof(IdleReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
