namespace FastSpool.Bench.Stats;

/// <summary>The figures of an <c>idle</c> run.</summary>
internal sealed class IdleReport
{
    public string Mode { get; init; } = "idle";
    public required string Server { get; init; }
    public required int Connections { get; init; }

    /// <summary>Greeted and answered EHLO with 250.</summary>
    public required int Opened { get; init; }

    /// <summary>Still open and silent at the end of the hold.</summary>
    public required int OpenAfterHold { get; init; }

    public required int QuitOk { get; init; }
    public required double OpenS { get; init; }
    public required double HoldS { get; init; }
    public required SortedDictionary<string, long> Errors { get; init; }
    public required double WallS { get; init; }
    public required List<string> Warnings { get; init; }
}
