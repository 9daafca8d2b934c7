using System.Text.Json.Serialization;

namespace FastSpool.Bench.Stats;

/// <summary>The figures of an <c>smtp</c> run, printed as text and written as JSON (snake_case keys).</summary>
internal sealed class SmtpReport
{
    public string Mode { get; init; } = "smtp";
    public required string Server { get; init; }

    /// <summary><c>per-message</c> (a connection per message) or <c>reuse</c>.</summary>
    public required string Connection { get; init; }

    public required string Greeting { get; init; }
    public required bool Pipelining { get; init; }
    public required bool Bdat { get; init; }
    public required int Connections { get; init; }
    public required int Messages { get; init; }

    /// <summary>Body bytes, or <c>SIZE:WEIGHT,...</c> in bytes for a mix.</summary>
    public required string Size { get; init; }

    public required long Accepted { get; init; }
    public required long AcceptedBytes { get; init; }
    public required double AcceptMsgsPerS { get; init; }

    /// <summary>Message bytes (header and body) accepted per second, in 10^6 bytes.</summary>
    public required double AcceptMbPerS { get; init; }

    public required LatencyReport LatencyMs { get; init; }
    public required SortedDictionary<string, long> Errors { get; init; }

    /// <summary>New messages seen in the --until-delivered mbox or directory; null when not measured.</summary>
    public long? Delivered { get; init; }

    [JsonPropertyName("e2e_msgs_per_s")]
    public double? E2eMsgsPerS { get; init; }

    [JsonPropertyName("e2e_s")]
    public double? E2eS { get; init; }

    public bool DeliveryTimeout { get; init; }

    /// <summary>From the first connect to the last reply.</summary>
    public required double WallS { get; init; }

    public double? ServerCpuS { get; init; }
    public long? ServerPeakRssKb { get; init; }

    /// <summary>The server's allocated bytes per message it accepted, between two statistics lines around the
    /// run (<c>--server-log</c>); null when not measured.</summary>
    public double? ServerAllocBytesPerMsg { get; init; }
    /// <summary>The generator's own CPU seconds while sending: it must stay well below the server's.</summary>
    public required double ClientCpuS { get; init; }

    /// <summary>Bytes the generator allocated while sending, per message (connections included).</summary>
    public required double ClientAllocBytesPerMsg { get; init; }

    public required List<string> Warnings { get; init; }
}
