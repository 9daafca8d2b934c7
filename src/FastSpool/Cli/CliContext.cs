using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using FastSpool.Configuration;
using FastSpool.Server;
using Microsoft.Extensions.Logging;

namespace FastSpool.Cli;

/// <summary>What every verb shares: the terminal, the <c>--config</c> and <c>--data</c> options (recursive: they
/// follow any verb), and the <c>--Section:Key=value</c> arguments, which are taken out of the command line before
/// it is parsed because a verb's ID arguments would otherwise swallow them.</summary>
internal sealed class CliContext(Terminal terminal, IReadOnlyList<string> settings)
{
    public Terminal Terminal => terminal;

    public Option<string> Config { get; } = new("--config")
    {
        Description = "The JSON configuration file (default: $FASTSPOOL_CONFIG, else ./fastspool.json, else /etc/fastspool/fastspool.json, the first that is set or present)",
        HelpName = "FILE",
        Recursive = true,
    };

    public Option<string> Data { get; } = new("--data")
    {
        Description = "The data directory (short for --DataDirectory=DIR)",
        HelpName = "DIR",
        Recursive = true,
    };

    /// <summary>The configuration for this run; on an error, prints it naming the key and gives exit code 78. The
    /// server prints it as log lines (<paramref name="asLogLines"/>), as it prints everything else.</summary>
    public bool TryLoadOptions(ParseResult result, [NotNullWhen(true)] out FastSpoolOptions? options, out int exitCode, bool asLogLines = false)
    {
        try
        {
            options = Load(result);
            exitCode = ExitCode.Ok;
            return true;
        }
        catch (SettingsException e)
        {
            options = null;
            if (!asLogLines)
            {
                exitCode = Fail(ExitCode.Config, "configuration error: " + e.Message);
                return false;
            }
            foreach (string line in e.Message.Split(Environment.NewLine))
                terminal.Error.Write(FastSpoolServer.FormatLogLine(LogLevel.Critical, "cannot start: configuration error: " + line));
            exitCode = ExitCode.Config;
            return false;
        }
    }

    /// <summary>The configuration read again (on SIGHUP): the options, or the error that keeps the running ones.</summary>
    public (FastSpoolOptions? Options, string? Error) ReloadOptions(ParseResult result)
    {
        try
        {
            return (Load(result), null);
        }
        catch (SettingsException e)
        {
            return (null, e.Message.Replace(Environment.NewLine, "; ", StringComparison.Ordinal));
        }
    }

    private FastSpoolOptions Load(ParseResult result)
    {
        var args = new List<string>();
        if (result.GetValue(Config) is { } config)
            args.AddRange(["--config", config]);
        if (result.GetValue(Data) is { } data)
            args.AddRange(["--data", data]);
        args.AddRange(settings);
        return Settings.Load(args);
    }

    /// <summary>Runs <paramref name="action"/> with a client of the running server's control socket; a failure to
    /// reach it, or an error answer, is one line on standard error and its sysexits code.</summary>
    public async Task<int> WithServerAsync(ParseResult result, Func<AdminClient, Task<int>> action)
    {
        if (!TryLoadOptions(result, out FastSpoolOptions? options, out int exitCode))
            return exitCode;
        using var client = new AdminClient(options.ControlSocketPath);
        try
        {
            return await action(client);
        }
        catch (AdminException e)
        {
            return Fail(e.ExitCode, e.Message);
        }
    }

    public int Fail(int exitCode, string message)
    {
        terminal.Error.WriteLine("fastspool: " + message);
        return exitCode;
    }
}
