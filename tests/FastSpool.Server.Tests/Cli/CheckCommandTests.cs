using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests.Cli;

/// <summary><c>fastspool check</c>: the configuration and the aliases checked, the settings that differ printed.</summary>
public sealed class CheckCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fastspool-check-" + Guid.NewGuid().ToString("N")[..12]);

    public CheckCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PrintsTheSettingsThatDifferFromTheDefaultsAndExits0()
    {
        string file = Path.Combine(_dir, "fastspool.json");
        File.WriteAllText(file, """{ "LocalDomains": [ "example.org" ], "Smtp": { "MaxRecipients": 50, "Timeout": "00:10:00" }, "Users": { "System": false } }""");
        File.WriteAllText(Path.Combine(_dir, "aliases"), "postmaster: alice\n");
        CliResult result = CliRunner.Run("check", "--config", file, "--data", _dir);
        Assert.Equal("", result.Error);
        Assert.Equal(0, result.Code);
        Assert.Equal(
            [$"DataDirectory = {_dir}", "LocalDomains = [example.org]", "Smtp:MaxRecipients = 50", "Smtp:Timeout = 00:10:00", "Users:System = false"],
            result.OutLines);
    }

    [Fact]
    public void AConfigurationErrorIsPrintedAndExits78()
    {
        CliResult result = CliRunner.Run("check", "--data", _dir, "--Smtp:MaxRecipents=5");
        Assert.Equal(78, result.Code);
        Assert.Equal("", result.Out);
        Assert.Equal("fastspool: configuration error: Smtp:MaxRecipents: unknown key (did you mean Smtp:MaxRecipients?)\n", result.Error);
    }

    [Fact]
    public void ABrokenAliasesFileIsPrintedAndExits78()
    {
        File.WriteAllText(Path.Combine(_dir, "aliases"), "  continuation without an alias\npostmaster: alice\nrunner: |/bin/sh\n");
        CliResult result = CliRunner.Run("check", "--data", _dir, "--Users:System=false");
        Assert.Equal(78, result.Code);
        Assert.Equal("", result.Out);
        Assert.Contains(result.ErrorLines, l => l.Contains("aliases line 1: continuation line without an alias", StringComparison.Ordinal));
        Assert.Contains(result.ErrorLines, l => l.Contains("aliases line 3", StringComparison.Ordinal));
        Assert.All(result.ErrorLines, l => Assert.StartsWith($"fastspool: {Path.Combine(_dir, "aliases")} line ", l));
    }

    [Fact]
    public void WithSystemUsersTheHostsAliasesAreCheckedToo()
    {
        string host = Path.Combine(_dir, "host-aliases");
        File.WriteAllText(host, "postmaster: root\ndecode: |/usr/bin/uudecode\n");
        CliResult result = CliRunner.Run("check", "--data", _dir, "--Users:System=true", $"--Users:SystemAliasesFile={host}");
        Assert.Equal(78, result.Code);
        Assert.Contains(result.ErrorLines, l => l.StartsWith($"fastspool: {host} line 2: alias 'decode'", StringComparison.Ordinal));

        File.WriteAllText(host, "postmaster: root\n");
        Assert.Equal(0, CliRunner.Run("check", "--data", _dir, "--Users:System=true", $"--Users:SystemAliasesFile={host}").Code);
    }
}
