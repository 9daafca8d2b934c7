using System.Text.RegularExpressions;
using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests;

/// <summary><c>contrib/fastspool.service</c>: systemd accepts it, and it runs what the README's "Install as a
/// service" installs.</summary>
public sealed class ServiceUnitTests
{
    private static readonly string Root = StartFailureTests.RepositoryRoot();

    private static string Unit => File.ReadAllText(Path.Combine(Root, "contrib", "fastspool.service"));

    private static string Setting(string unit, string key) =>
        Regex.Match(unit, $"^{key}=(?<value>.*)$", RegexOptions.Multiline) is { Success: true } m
            ? m.Groups["value"].Value
            : throw new InvalidOperationException($"the unit has no {key}=");

    [SystemdAnalyzeFact]
    public async Task SystemdAnalyzeVerifiesTheUnitWithoutAWord()
    {
        // verify insists that ExecStart's binary exists: a stand-in takes its place, every other line as it is.
        string dir = Path.Combine(Path.GetTempPath(), "fastspool-unit-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        try
        {
            string binary = Path.Combine(dir, "fastspool");
            File.WriteAllText(binary, "#!/bin/sh\n");
            File.SetUnixFileMode(binary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            string unit = Path.Combine(dir, "fastspool.service");
            File.WriteAllText(unit, Unit.Replace("/opt/fastspool/fastspool ", binary + " ", StringComparison.Ordinal));
            CliResult result = await ChildProcess.RunAsync("systemd-analyze", ["verify", unit]);
            Assert.True(result is { Code: 0, Error: "", Out: "" }, result.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TheUnitRunsWhatTheReadmeInstalls()
    {
        string unit = Unit;
        string readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        string execStart = Setting(unit, "ExecStart");
        Assert.Contains($"`ExecStart={execStart}`", readme.Replace("\n", " ", StringComparison.Ordinal));

        Match command = Regex.Match(execStart, "^(?<binary>\\S+) serve --config (?<config>\\S+) --data (?<data>\\S+)$");
        Assert.True(command.Success, execStart);
        string binary = command.Groups["binary"].Value, config = command.Groups["config"].Value, data = command.Groups["data"].Value;
        // Both programs, native, into the unit's directory.
        Assert.Contains($"dotnet publish src/FastSpool -c Release -r linux-x64 -o {Path.GetDirectoryName(binary)} ", readme);
        Assert.Contains($"dotnet publish src/FastSpool.Sendmail -c Release -r linux-x64 -o {Path.GetDirectoryName(binary)} ", readme);
        Assert.Contains($"install -d -o fastspool -g fastspool -m 0700 {data} ", readme);
        Assert.Contains($"cp fastspool.json {Path.GetDirectoryName(config)}/", readme);
        // The data directory, and the shared maildrop beside it (Sendmail:SharedMaildrop's default), which must exist
        // before the start (the sandbox keeps the server from making it in /var/spool).
        Assert.Equal($"{data} -{data}.maildrop", Setting(unit, "ReadWritePaths"));
        Assert.Contains($"install -d -o fastspool -g fastspool -m 1733 {data}.maildrop ", readme);
        Assert.Equal("fastspool", Setting(unit, "User"));
        Assert.Equal("strict", Setting(unit, "ProtectSystem"));
        Assert.Equal("journal", Setting(unit, "StandardOutput"));
        Assert.Equal("/bin/kill -HUP $MAINPID", Setting(unit, "ExecReload"));
    }
}

/// <summary>Runs where systemd-analyze is installed (.ci/run installs it); skips, saying so, where it is not.</summary>
internal sealed class SystemdAnalyzeFactAttribute : FactAttribute
{
    public SystemdAnalyzeFactAttribute()
    {
        string[] path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':');
        if (!path.Any(p => File.Exists(Path.Combine(p, "systemd-analyze"))))
            Skip = "systemd-analyze is not installed (package systemd; .ci/run installs it)";
    }
}
