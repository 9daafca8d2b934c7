namespace FastSpool.Bench.Cli;

/// <summary>The <c>sendmail</c> verb's settings: N processes at once, each running the sendmail command M times.</summary>
internal sealed class SendmailBenchOptions
{
    /// <summary>The program to run (FastSpool's sendmail link, or Postfix's /usr/sbin/sendmail).</summary>
    public required string Command { get; init; }

    /// <summary>Variables for it, NAME=VALUE (FASTSPOOL_CONFIG, or Postfix's MAIL_CONFIG).</summary>
    public required IReadOnlyList<string> Environment { get; init; }

    public required string To { get; init; }

    public int Processes { get; init; } = 4;

    public int Messages { get; init; } = 100;

    public int Size { get; init; } = 1024;

    public string? UntilDelivered { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(300);
}
