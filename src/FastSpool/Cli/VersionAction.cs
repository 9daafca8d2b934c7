using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;

namespace FastSpool.Cli;

/// <summary><c>fastspool --version</c>: this assembly's informational version. System.CommandLine's own action
/// prints the entry assembly's, which is not ours when the command line runs inside another host (tests).</summary>
internal sealed class VersionAction : SynchronousCommandLineAction
{
    public static string Version { get; } =
        typeof(VersionAction).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Wins over "no verb given", as --help does.</summary>
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        parseResult.InvocationConfiguration.Output.WriteLine(Version);
        return ExitCode.Ok;
    }
}
