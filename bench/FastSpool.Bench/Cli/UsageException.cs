namespace FastSpool.Bench.Cli;

/// <summary>A bad command line; the message names the option. Exit code 64 (EX_USAGE).</summary>
internal sealed class UsageException(string message) : Exception(message);
