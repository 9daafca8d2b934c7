namespace FastSpool.Bench.Cli;

/// <summary>The <c>pop3</c> verb's settings: drain many users' maildrops at once.</summary>
internal sealed class Pop3BenchOptions
{
    public required ServerAddress Server { get; init; }

    /// <summary>The users whose maildrops are drained, each by one session.</summary>
    public required IReadOnlyList<string> Users { get; init; }
    public required string Password { get; init; }

    /// <summary>Sessions at once (each takes the next user not yet drained).</summary>
    public int Connections { get; init; } = 10;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(300);
    public int? ServerPid { get; init; }
}
