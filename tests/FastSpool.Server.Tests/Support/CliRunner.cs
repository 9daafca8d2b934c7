using FastSpool.Cli;

namespace FastSpool.Server.Tests.Support;

/// <summary>Runs the <c>fastspool</c> command line in this process, with its terminal captured.</summary>
internal static class CliRunner
{
    public static CliResult Run(params string[] args) => RunWithInput("", args);

    public static CliResult RunWithInput(string stdin, params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        int code = CommandLine.Run(args, new Terminal(new StringReader(stdin), output, error));
        return new CliResult(code, output.ToString(), error.ToString());
    }
}
