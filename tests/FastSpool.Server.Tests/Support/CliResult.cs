namespace FastSpool.Server.Tests.Support;

/// <summary>What a run of the command line left: its exit code and its two output streams.</summary>
internal sealed record CliResult(int Code, string Out, string Error)
{
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
