namespace FastSpool.Bench.Cli;

/// <summary>The <c>idle</c> verb's settings: many open, silent sessions.</summary>
internal sealed class IdleBenchOptions
{
    public required ServerAddress Server { get; init; }
    public int Connections { get; init; } = 1000;
    public TimeSpan Hold { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait for one connect or reply.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Connections being opened at once.</summary>
    public int ConnectConcurrency { get; init; } = 200;

    public string? JsonPath { get; init; }
}
