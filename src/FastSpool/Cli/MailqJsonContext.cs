using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FastSpool.Cli;

/// <summary><c>mailq --json</c>'s serializer, generated at build time: snake_case names as <c>postqueue -j</c> has
/// them, absent values left out, and non-ASCII addresses and <c>&lt;</c>, <c>&gt;</c> written as they are (the
/// output goes to a terminal or a script, not into HTML).</summary>
[JsonSerializable(typeof(MailqJsonMessage))]
internal sealed partial class MailqJsonContext : JsonSerializerContext
{
    public static MailqJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
