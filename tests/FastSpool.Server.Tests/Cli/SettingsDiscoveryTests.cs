using FastSpool.Cli;

namespace FastSpool.Server.Tests.Cli;

/// <summary>Every verb finds its configuration file the same way from any directory: --config, then
/// $FASTSPOOL_CONFIG, then ./fastspool.json, then /etc/fastspool/fastspool.json.</summary>
public sealed class SettingsDiscoveryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fastspool-cfg-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string name)
    {
        string path = Path.Combine(_root, name);
        File.WriteAllText(path, "{}");
        return path;
    }

    [Fact]
    public void TheOrderIsOptionVariableWorkingDirectoryThenSystem()
    {
        string option = Write("option.json"), variable = Write("variable.json"), system = Write("system.json");
        Assert.Equal(option, Settings.FindConfigFile(option, variable, system));
        Assert.Equal(variable, Settings.FindConfigFile(null, variable, system));
        // The working directory of the test run has no fastspool.json.
        Assert.False(File.Exists("fastspool.json"));
        Assert.Equal(system, Settings.FindConfigFile(null, null, system));
        Assert.Equal(system, Settings.FindConfigFile(null, "", system));
        Assert.Null(Settings.FindConfigFile(null, null, Path.Combine(_root, "absent.json")));
    }

    [Fact]
    public void ANamedFileMustExist()
    {
        string absent = Path.Combine(_root, "absent.json");
        Assert.Equal($"--config: {absent} does not exist", Assert.Throws<SettingsException>(() => Settings.FindConfigFile(absent, null, absent)).Message);
        Assert.Equal($"FASTSPOOL_CONFIG: {absent} does not exist", Assert.Throws<SettingsException>(() => Settings.FindConfigFile(null, absent, absent)).Message);
    }
}
