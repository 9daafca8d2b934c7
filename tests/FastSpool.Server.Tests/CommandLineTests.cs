using FastSpool.Cli;
using FastSpool.Configuration;

namespace FastSpool.Server.Tests;

/// <summary>The <c>fastspool</c> command's configuration and its <c>user</c> verb.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fastspool-cli-" + Guid.NewGuid().ToString("N"));

    public CommandLineTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DefaultsAreTheDocumentedOnes()
    {
        FastSpoolOptions o = Settings.Load(["--data", _dir]);
        Assert.Equal(_dir, o.DataDirectory);
        Assert.Equal(["127.0.0.1:2525"], o.Smtp.Listen);
        Assert.Equal(36_700_160, o.Smtp.MaxMessageSize);
        Assert.Equal(1000, o.Smtp.MaxRecipients);
        Assert.Contains("localhost", o.LocalDomains!);
        Assert.Equal(Path.Combine(_dir, "mail"), o.Delivery.MailDirectory);
        Assert.True(o.Users.System);
    }

    [Fact]
    public void ArgumentsOverrideTheFileAndListsReplaceTheDefaults()
    {
        string file = Path.Combine(_dir, "fastspool.json");
        File.WriteAllText(file, """
            { "LocalDomains": [ "example.org" ], "Smtp": { "MaxRecipients": 50, "Hostname": "mx.example.org" } }
            """);
        FastSpoolOptions o = Settings.Load(["--config", file, "--DataDirectory=" + _dir, "--Smtp:MaxRecipients=7", "--Smtp:Listen:0=[::1]:2600"]);
        Assert.Equal(["example.org"], o.LocalDomains);
        Assert.Equal(7, o.Smtp.MaxRecipients);
        Assert.Equal("mx.example.org", o.Smtp.Hostname);
        Assert.Equal(["[::1]:2600"], o.Smtp.Listen);
    }

    [Fact]
    public void TopLevelKeysAreTakenFromArgumentsAndLeaveNothingBehind()
    {
        var args = new List<string> { "--LogLevel=Warning", "--DataDirectory=" + _dir };
        FastSpoolOptions o = Settings.Load(args);
        Assert.Equal("Warning", o.LogLevel);
        Assert.Equal(_dir, o.DataDirectory);
        Assert.Empty(args);
    }

    [Fact]
    public void EnvironmentVariablesAreRead()
    {
        Environment.SetEnvironmentVariable("FASTSPOOL__Smtp__MaxErrors", "9");
        try
        {
            Assert.Equal(9, Settings.Load(["--data", _dir]).Smtp.MaxErrors);
        }
        finally
        {
            Environment.SetEnvironmentVariable("FASTSPOOL__Smtp__MaxErrors", null);
        }
    }

    [Theory]
    [InlineData("--Smtp:Listen:0=nowhere", "Smtp:Listen")]
    [InlineData("--Smtp:Timeout=soon", "Smtp:Timeout")]
    [InlineData("--Smtp:MaxRecipients=0", "Smtp:MaxRecipients")]
    [InlineData("--Delivery:Concurrency=0", "Delivery:Concurrency")]
    [InlineData("--Queue:PageSizeBits=12", "Queue:PageSizeBits")]
    [InlineData("--StatisticsInterval=-00:00:01", "StatisticsInterval")]
    [InlineData("--LocalDomains:0=a b", "LocalDomains")]
    public void ErrorsNameTheKey(string argument, string key)
    {
        var e = Assert.Throws<SettingsException>(() => Settings.Load(["--data", _dir, argument]));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void AMissingConfigFileIsAnError()
    {
        var e = Assert.Throws<SettingsException>(() => Settings.Load(["--config", Path.Combine(_dir, "nope.json")]));
        Assert.Contains("--config", e.Message);
    }

    private (int Code, string Out, string Err) User(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = UserCommand.Run(args, _dir, new StringReader(stdin), output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void UserVerbAddsListsChangesAndRemovesUsers()
    {
        Assert.Equal(0, User("s3cret\n", "add", "Carol", "--password-stdin").Code);
        Assert.Equal(0, User("", "add", "dave").Code);
        Assert.Equal("carol\ndave\n", User("", "list").Out.Replace("\r\n", "\n"));
        var store = new FastSpool.Users.UserStore(_dir);
        Assert.True(store.TryGetPasswordHash("carol", out string? hash));
        Assert.True(FastSpool.Users.PasswordHasher.Verify("s3cret", hash));
        Assert.Equal(0, User("n3w\n", "passwd", "carol", "--password-stdin").Code);
        store.Refresh();
        Assert.True(store.TryGetPasswordHash("carol", out hash));
        Assert.True(FastSpool.Users.PasswordHasher.Verify("n3w", hash));
        Assert.Equal(0, User("", "del", "dave").Code);
        Assert.Equal("carol\n", User("", "list").Out.Replace("\r\n", "\n"));
    }

    [Fact]
    public void UserVerbRefusesBadInputWithSysexitsCodes()
    {
        Assert.Equal(0, User("", "add", "erin").Code);
        (int code, _, string err) = User("", "add", "erin");
        Assert.Equal(65, code);
        Assert.Contains("erin", err);
        Assert.Equal(65, User("", "add", "../etc").Code);
        Assert.Equal(65, User("", "del", "nobody-here").Code);
        Assert.Equal(64, User("", "frobnicate").Code);
        Assert.Equal(64, User("").Code);
    }
}
