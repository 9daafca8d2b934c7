using FastSpool.Cli;
using FastSpool.Configuration;
using FastSpool.Server.Tests.Support;

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
    [InlineData("--Smtp:ConnectionLimitExemptions:0=10.0.0.0/33", "Smtp:ConnectionLimitExemptions")]
    [InlineData("--Smtp:ConnectionLimitExemptions:0=localhost", "Smtp:ConnectionLimitExemptions")]
    [InlineData("--Smtp:MaxConnectionsPerClient=-1", "Smtp:MaxConnectionsPerClient")]
    [InlineData("--Smtp:ConnectionRatePerClient=-1", "Smtp:ConnectionRatePerClient")]
    [InlineData("--Metrics:Listen:0=nowhere", "Metrics:Listen: 'nowhere' is not an endpoint")]
    [InlineData("--Metrics:Listen:0=127.0.0.1:0", "Metrics:Listen: '127.0.0.1:0' is not an endpoint")]
    [InlineData("--Metrics:Listen:0=127.0.0.1:2525", "Metrics:Listen: '127.0.0.1:2525' is an SMTP endpoint too")]
    public void ErrorsNameTheKey(string argument, string key)
    {
        var e = Assert.Throws<SettingsException>(() => Settings.Load(["--data", _dir, argument]));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void MetricsAreOffUnlessAnEndpointIsGiven()
    {
        Assert.Empty(Settings.Load(["--data", _dir]).Metrics.Listen!);
        Assert.Equal(["127.0.0.1:9125", "[::1]:9125"],
            Settings.Load(["--data", _dir, "--Metrics:Listen:0=127.0.0.1:9125", "--Metrics:Listen:1=[::1]:9125"]).Metrics.Listen);
    }

    [Fact]
    public void ConnectionLimitsDefaultToPostfixsAndExemptLoopbackUnlessTheListIsGiven()
    {
        FastSpoolOptions o = Settings.Load(["--data", _dir]);
        Assert.Equal(50, o.Smtp.MaxConnectionsPerClient);
        Assert.Equal(0, o.Smtp.ConnectionRatePerClient);
        Assert.Equal(["127.0.0.0/8", "::1/128"], o.Smtp.ConnectionLimitExemptions);
        Assert.Equal(["192.0.2.0/24", "2001:db8::1"],
            Settings.Load(["--data", _dir, "--Smtp:ConnectionLimitExemptions:0=192.0.2.0/24", "--Smtp:ConnectionLimitExemptions:1=2001:db8::1"]).Smtp.ConnectionLimitExemptions);
        // One empty entry: a list that exempts nobody, which an argument cannot otherwise say.
        Assert.Equal([""], Settings.Load(["--data", _dir, "--Smtp:ConnectionLimitExemptions:0="]).Smtp.ConnectionLimitExemptions);
    }

    [Fact]
    public void RelaySettingsDefaultToLoopbackTrustAndNoSmarthost()
    {
        FastSpoolOptions o = Settings.Load(["--data", _dir]);
        Assert.Equal(["127.0.0.0/8", "::1/128"], o.Relay.Networks);
        Assert.Null(o.Relay.Smarthost);
        Assert.Equal("starttls", o.Relay.Tls);
        Assert.True(o.Relay.VerifyCertificate);
        Assert.Equal(20, o.Relay.MaxConnections);
        Assert.Equal(100, o.Relay.MessagesPerConnection);
        Assert.Equal([""], Settings.Load(["--data", _dir, "--Relay:Networks:0="]).Relay.Networks);
    }

    [Theory]
    [InlineData("smtp.isp.example", 25, "smtp.isp.example", 25)]
    [InlineData("smtp.isp.example:587", 25, "smtp.isp.example", 587)]
    [InlineData("[smtp.isp.example]:587", 25, "smtp.isp.example", 587)]
    [InlineData("[192.0.2.1]", 465, "192.0.2.1", 465)]
    [InlineData("[2001:db8::1]:2525", 25, "2001:db8::1", 2525)]
    public void ASmarthostIsHostAndPort(string text, int defaultPort, string host, int port)
    {
        Assert.True(RelayOptions.TryParseSmarthost(text, defaultPort, out string h, out int p));
        Assert.Equal((host, port), (h, p));
    }

    [Theory]
    [InlineData("--Relay:Networks:0=10.0.0.0/33", "Relay:Networks: '10.0.0.0/33' is not a network (use 192.0.2.0/24, 2001:db8::/32 or one address)")]
    [InlineData("--Relay:Smarthost=smtp.isp.example:0", "Relay:Smarthost: 'smtp.isp.example:0' is not host[:port] (use smtp.isp.example:587, [smtp.isp.example]:587 or [192.0.2.1]:25)")]
    [InlineData("--Relay:Smarthost=2001:db8::1", "Relay:Smarthost: '2001:db8::1' is not host[:port] (use smtp.isp.example:587, [smtp.isp.example]:587 or [192.0.2.1]:25)")]
    [InlineData("--Relay:Tls=ssl", "Relay:Tls: 'ssl' is not one of starttls, implicit, none")]
    [InlineData("--Relay:MaxConnections=0", "Relay:MaxConnections: must be between 1 and 1000")]
    [InlineData("--Relay:MessagesPerConnection=0", "Relay:MessagesPerConnection: must be at least 1")]
    [InlineData("--Relay:Username=me", "Relay:Username and Relay:PasswordFile: give both, or neither")]
    public void ABadRelaySettingIsAnErrorThatNamesIt(string argument, string error)
    {
        var e = Assert.Throws<SettingsException>(() => Settings.Load(["--data", _dir, argument]));
        Assert.Equal(error, e.Message);
    }

    [Theory]
    [InlineData("--Smtp:MaxRecipents=5", "Smtp:MaxRecipents: unknown key (did you mean Smtp:MaxRecipients?)")]
    [InlineData("--MaxRecipients=5", "MaxRecipients: unknown key (did you mean Smtp:MaxRecipients?)")]
    [InlineData("--Delivery:Frobnicate=1", "Delivery:Frobnicate: unknown key")]
    [InlineData("--Smtp:Listen=127.0.0.1:25", "Smtp:Listen: expected a list, such as [ \"127.0.0.1:25\" ], not a string")]
    [InlineData("--Smtp=big", "Smtp: expected a section of keys, not a value")]
    [InlineData("--Metrics:Listen=127.0.0.1:9125", "Metrics:Listen: expected a list, such as [ \"127.0.0.1:9125\" ], not a string")]
    [InlineData("--Metrics:Port=9125", "Metrics:Port: unknown key")]
    [InlineData("--Smtp:MaxErrors:0=3", "Smtp:MaxErrors: expected one value, not a list or a section")]
    [InlineData("--Smtp:Timeout=soon", "Smtp:Timeout: 'soon' is not a time span (hh:mm:ss or d.hh:mm:ss)")]
    public void AnUnknownKeyOrAValueOfTheWrongShapeIsAnErrorThatNamesIt(string argument, string error)
    {
        var e = Assert.Throws<SettingsException>(() => Settings.Load(["--data", _dir, argument]));
        Assert.Equal(error, e.Message);
    }

    [Fact]
    public void AStringWhereTheFileWantsAListIsAnError()
    {
        string file = Path.Combine(_dir, "fastspool.json");
        File.WriteAllText(file, """{ "Smtp": { "Listen": "0.0.0.0:25" }, "LocalDomain": [ "example.org" ] }""");
        var e = Assert.Throws<SettingsException>(() => Settings.Load(["--config", file, "--data", _dir]));
        Assert.Equal(
            "LocalDomain: unknown key (did you mean LocalDomains?)" + Environment.NewLine +
            "Smtp:Listen: expected a list, such as [ \"0.0.0.0:25\" ], not a string", e.Message);
    }

    [Fact]
    public void BrokenJsonIsReportedWithItsLineAndColumn()
    {
        string file = Path.Combine(_dir, "fastspool.json");
        File.WriteAllText(file, "{\n  \"Smtp\": {\n    \"MaxErrors\": 5,,\n  }\n}\n");
        var e = Assert.Throws<SettingsException>(() => Settings.Load(["--config", file, "--data", _dir]));
        Assert.StartsWith("configuration file: not valid JSON at line 3, column 20", e.Message);
    }

    [Theory]
    [InlineData("warning", "Warning")]
    [InlineData("DEBUG", "Debug")]
    [InlineData("Information", "Information")]
    public void EnumValuesAreCaseInsensitive(string given, string level)
    {
        Assert.Equal(level, Settings.Load(["--data", _dir, "--LogLevel=" + given]).LogLevel);
        Assert.Equal(level, Settings.Load(["--data", _dir, "--loglevel=" + given]).LogLevel);
    }

    [Fact]
    public void SettingsTakeTheirValueAsTheNextArgumentToo()
    {
        CliResult result = CliRunner.Run("check", "--data", _dir, "--LogLevel", "Warning", "--Smtp:MaxRecipients", "7", "--Smtp:Listen:0", "[::1]:2600");
        Assert.Equal("", result.Error);
        Assert.Equal(0, result.Code);
        Assert.Contains("LogLevel = Warning\n", result.Out);
        Assert.Contains("Smtp:MaxRecipients = 7\n", result.Out);
        Assert.Contains("Smtp:Listen = [[::1]:2600]\n", result.Out);
    }

    [Fact]
    public void AMissingConfigFileIsAnError()
    {
        var e = Assert.Throws<SettingsException>(() => Settings.Load(["--config", Path.Combine(_dir, "nope.json")]));
        Assert.Contains("--config", e.Message);
    }

    private CliResult User(string stdin, params string[] args) => CliRunner.RunWithInput(stdin, ["user", .. args, "--data", _dir]);

    [Fact]
    public void UserVerbAddsListsChangesAndRemovesUsers()
    {
        Assert.Equal(0, User("s3cret\n", "add", "Carol", "--password-stdin").Code);
        Assert.Equal(0, User("", "add", "dave").Code);
        Assert.Equal("carol  password\ndave   no password\n", User("", "list").Out);
        var store = new FastSpool.Users.UserStore(_dir);
        Assert.True(store.TryGetPasswordHash("carol", out string? hash));
        Assert.True(FastSpool.Users.PasswordHasher.Verify("s3cret", hash));
        Assert.Equal(0, User("n3w\n", "passwd", "carol", "--password-stdin").Code);
        store.Refresh();
        Assert.True(store.TryGetPasswordHash("carol", out hash));
        Assert.True(FastSpool.Users.PasswordHasher.Verify("n3w", hash));
        Assert.Equal(0, User("", "del", "dave").Code);
        Assert.Equal("carol  password\n", User("", "list").Out);
    }

    [Fact]
    public void UserVerbStoresThePasswordInItsSaslPrepFormAndRefusesOneSaslPrepRefuses()
    {
        // U+2168 ROMAN NUMERAL NINE and a no-break space: stored as "IX pass" (RFC 4013 §2.1, §2.2).
        Assert.Equal(0, User("\u2168\u00A0pass\n", "add", "carol", "--password-stdin").Code);
        var store = new FastSpool.Users.UserStore(_dir);
        Assert.True(store.TryGetPasswordHash("carol", out string? hash));
        Assert.True(FastSpool.Users.PasswordHasher.Verify("IX pass", hash));
        Assert.False(FastSpool.Users.PasswordHasher.Verify("\u2168\u00A0pass", hash));

        CliResult prohibited = User("bad\u0007bell\n", "passwd", "carol", "--password-stdin");
        Assert.Equal(65, prohibited.Code);
        Assert.Equal("fastspool: the password cannot be used: prohibited character U+0007 (RFC 3454 C.2.1) (SASLprep, RFC 4013)\n", prohibited.Error);
        CliResult unassigned = User("pw\u0221\n", "passwd", "carol", "--password-stdin");
        Assert.Equal(65, unassigned.Code);
        Assert.Contains("code point U+0221 unassigned in Unicode 3.2 (RFC 3454 A.1)", unassigned.Error, StringComparison.Ordinal);
        Assert.Equal(65, User("\u00AD\n", "passwd", "carol", "--password-stdin").Code); // nothing left after mapping
        store.Refresh();
        Assert.True(store.TryGetPasswordHash("carol", out string? unchanged));
        Assert.Equal(hash, unchanged);
    }

    [Fact]
    public void UserVerbRefusesBadInputWithSysexitsCodes()
    {
        Assert.Equal(0, User("", "add", "erin").Code);
        CliResult again = User("", "add", "erin");
        Assert.Equal(65, again.Code);
        Assert.Equal("fastspool: user 'erin' already exists\n", again.Error);
        Assert.Equal(65, User("", "add", "../etc").Code);
        Assert.Equal(65, User("", "del", "nobody-here").Code);
        Assert.Equal(65, User("", "add", "frank", "--password-stdin").Code); // no password on standard input
        Assert.Equal(64, User("", "frobnicate").Code);
        Assert.Equal(64, User("").Code);
        Assert.Equal(64, User("", "passwd", "erin").Code); // --password-stdin is required
        Assert.Equal(64, User("", "del", "erin", "--password-stdin").Code);
        Assert.Equal(64, User("", "add", "erin", "grace").Code);
        Assert.Equal("erin  no password\n", User("", "list").Out);
    }

    [Fact]
    public void NoVerbIsAUsageErrorWithTheUsageOnStandardError()
    {
        CliResult result = CliRunner.Run();
        Assert.Equal(64, result.Code);
        Assert.Equal("", result.Out);
        Assert.StartsWith("fastspool: Required command was not provided.\n", result.Error);
        Assert.Contains("fastspool [command] [options]", result.Error);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("serve", "extra")]
    [InlineData("mailq", "--frobnicate")]
    [InlineData("hold")]
    [InlineData("hold", "XYZ")]
    [InlineData("delete", "XYZ")]
    [InlineData("release", "6B05C71800001", "12345678901234567")]
    [InlineData("delete")]
    [InlineData("delete", "6B05C71800001", "--all")]
    [InlineData("delete", "--all", "--all-deferred")]
    [InlineData("queue", "show")]
    [InlineData("queue", "show", "6B05C71800001", "6B05C71800002")]
    [InlineData("mailq", "--data")]
    public void BadArgumentsAreAUsageErrorThatNamesTheProblemAndShowsTheVerbsUsage(params string[] args)
    {
        // The data directory has no server: a verb that went past its arguments would answer 69, not 64.
        CliResult result = CliRunner.Run([.. args, "--Data" + "Directory=" + _dir]);
        Assert.Equal(64, result.Code);
        Assert.Equal("", result.Out);
        Assert.StartsWith("fastspool: ", result.Error);
        Assert.Contains("Usage:", result.Error);
    }

    [Fact]
    public void AnIdThatIsNotOneIsNamed()
    {
        CliResult result = CliRunner.Run("hold", "6B05C71800001", "XYZ", "--data", _dir);
        Assert.Equal(64, result.Code);
        Assert.Equal("fastspool: 'XYZ' is not a queue id (1-16 hex digits)", result.ErrorLines[0]);
    }

    [Fact]
    public void AConfigurationErrorNamesTheKeyWhateverTheVerb()
    {
        foreach (string[] verb in (string[][])[["check"], ["mailq"], ["user", "list"], ["hold", "6B05C71800001"], ["queue", "show", "6B05C71800001"]])
        {
            CliResult result = CliRunner.Run([.. verb, "--data", _dir, "--Smtp:MaxRecipients=0"]);
            Assert.Equal(78, result.Code);
            Assert.StartsWith("fastspool: configuration error: Smtp:MaxRecipients", result.Error);
        }
    }

    [Fact]
    public void VersionIsTheAssemblysInformationalVersion()
    {
        CliResult result = CliRunner.Run("--version");
        Assert.Equal(0, result.Code);
        string expected = typeof(FastSpool.Cli.CommandLine).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;
        Assert.Equal(expected + "\n", result.Out);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("user")]
    [InlineData("user", "add", "--password-stdin")]
    [InlineData("user", "del")]
    [InlineData("user", "passwd", "--password-stdin")]
    [InlineData("user", "list")]
    [InlineData("mailq", "--json")]
    [InlineData("flush")]
    [InlineData("hold")]
    [InlineData("release")]
    [InlineData("requeue")]
    [InlineData("delete", "--bounce", "--all", "--all-deferred")]
    [InlineData("queue", "show")]
    public void EveryVerbHasHelpThatNamesItsOptionsAndTheSettings(string verb, params string[] more)
    {
        string[] path = [verb, .. more.Where(m => !m.StartsWith('-'))];
        foreach (string[] args in (string[][])[[.. path, "--help"], ["help", .. path]])
        {
            CliResult result = CliRunner.Run(args);
            Assert.Equal(0, result.Code);
            Assert.Equal("", result.Error);
            Assert.Contains($"fastspool {string.Join(' ', path)}", result.Out);
            foreach (string option in (string[])["--config <FILE>", "--data <DIR>", .. more.Where(m => m.StartsWith('-'))])
                Assert.Contains(option, result.Out);
        }
    }

    [Fact]
    public void TopLevelHelpListsEveryVerbOnStandardOutput()
    {
        CliResult result = CliRunner.Run("--help");
        Assert.Equal(0, result.Code);
        foreach (string verb in (string[])["serve", "user", "mailq", "flush", "hold", "release", "requeue", "delete", "queue"])
            Assert.Contains("\n  " + verb + " ", result.Out);
        Assert.Contains("--Section:Key=value", result.Out);
        Assert.Equal(result.Out, CliRunner.Run("help").Out);
    }
}
