using FastSpool.Bench.Cli;

namespace FastSpool.Bench.Tests;

public sealed class OptionParserTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("512", 512)]
    [InlineData("512B", 512)]
    [InlineData("10KiB", 10240)]
    [InlineData("10kib", 10240)]
    [InlineData("10K", 10240)]
    [InlineData("1MiB", 1048576)]
    [InlineData("3M", 3145728)]
    [InlineData("1GiB", 1073741824)]
    public void SizesTakeBinarySuffixes(string text, long bytes) =>
        Assert.Equal(bytes, OptionParser.ParseSize("--size", text));

    [Theory]
    [InlineData("")]
    [InlineData("KiB")]
    [InlineData("10KB")]
    [InlineData("10 parsecs")]
    [InlineData("-1")]
    [InlineData("1.5KiB")]
    public void BadSizesNameTheOption(string text)
    {
        var e = Assert.Throws<UsageException>(() => OptionParser.ParseSize("--size", text));
        Assert.StartsWith("--size:", e.Message);
    }

    [Theory]
    [InlineData("60s", 60_000)]
    [InlineData("60", 60_000)]
    [InlineData("500ms", 500)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1.5s", 1500)]
    public void DurationsTakeUnits(string text, double milliseconds) =>
        Assert.Equal(milliseconds, OptionParser.ParseDuration("--timeout", text).TotalMilliseconds);

    [Fact]
    public void SmtpOptionsAreParsed()
    {
        SmtpBenchOptions o = OptionParser.ParseSmtp(
        [
            "--server", "127.0.0.1:2700", "--connections", "50", "--messages=20000", "--size", "10KiB",
            "--to", "alice@localhost", "--from", "bob@example.org", "--pipelining", "--reuse", "--bdat",
            "--until-delivered", "var/mail/alice", "--json", "out.json", "--timeout", "60s", "--server-pid", "42",
            "--server-log", "/tmp/fastspool.log",
        ]);
        Assert.Equal("/tmp/fastspool.log", o.ServerLog);
        Assert.Equal(new ServerAddress("127.0.0.1", 2700), o.Server);
        Assert.Equal(50, o.Connections);
        Assert.Equal(20000, o.Messages);
        Assert.Equal(1, o.Sizes.Count);
        Assert.Equal(10240, o.Sizes.SizeAt(0));
        Assert.Equal("alice@localhost", o.To);
        Assert.Equal("bob@example.org", o.From);
        Assert.True(o.Pipelining && o.Reuse && o.Bdat);
        Assert.False(o.Helo);
        Assert.Equal("var/mail/alice", o.UntilDelivered);
        Assert.Equal("out.json", o.JsonPath);
        Assert.Equal(TimeSpan.FromSeconds(60), o.Timeout);
        Assert.Equal(42, o.ServerPid);
    }

    [Fact]
    public void TlsAndAuthOptionsAreParsed()
    {
        SmtpBenchOptions o = OptionParser.ParseSmtp(["--to", "a@b", "--starttls", "--trust", "cert.pem", "--tls-host", "mx.example.org", "--auth", "alice:pass:word"]);
        Assert.True(o.StartTls);
        Assert.False(o.ImplicitTls);
        Assert.Equal("cert.pem", o.TrustCertificate);
        Assert.Equal("mx.example.org", o.TlsHost);
        Assert.Equal("alice", o.AuthUser);
        Assert.Equal("pass:word", o.AuthPassword);
        Assert.True(OptionParser.ParseSmtp(["--to", "a@b", "--implicit-tls"]).ImplicitTls);
    }

    [Fact]
    public void SmtpDefaultsAreSmtpSourceLike()
    {
        SmtpBenchOptions o = OptionParser.ParseSmtp(["--to", "alice@localhost"]);
        Assert.Equal(new ServerAddress("127.0.0.1", 2525), o.Server);
        Assert.Equal("bench@example.org", o.From);
        Assert.False(o.Reuse || o.Pipelining || o.Bdat || o.Helo);
        Assert.Equal(TimeSpan.FromSeconds(300), o.Timeout);
        Assert.Null(o.UntilDelivered);
    }

    [Fact]
    public void SizeMixKeepsSizesAndWeights()
    {
        SmtpBenchOptions o = OptionParser.ParseSmtp(["--to", "a@b", "--size-mix", "1KiB:70,10KiB:25,100KiB:5"]);
        Assert.Equal(3, o.Sizes.Count);
        Assert.Equal([1024, 10240, 102400], [o.Sizes.SizeAt(0), o.Sizes.SizeAt(1), o.Sizes.SizeAt(2)]);
        Assert.Equal([70, 25, 5], [o.Sizes.WeightAt(0), o.Sizes.WeightAt(1), o.Sizes.WeightAt(2)]);
        Assert.Equal("1024:70,10240:25,102400:5", o.Sizes.ToString());
    }

    [Fact]
    public void ServerTakesBracketedIPv6()
    {
        Assert.Equal(new ServerAddress("::1", 25), OptionParser.ParseServer("--server", "[::1]:25"));
        Assert.Equal("[::1]:25", new ServerAddress("::1", 25).ToString());
    }

    [Theory]
    [InlineData("--connections", new[] { "--to", "a@b", "--connections", "0" })]
    [InlineData("--connections", new[] { "--to", "a@b", "--connections", "many" })]
    [InlineData("--messages", new[] { "--to", "a@b", "--messages", "-5" })]
    [InlineData("--size", new[] { "--to", "a@b", "--size", "10KB" })]
    [InlineData("--size", new[] { "--to", "a@b", "--size", "1" })]
    [InlineData("--size", new[] { "--to", "a@b", "--size", "1GiB" })]
    [InlineData("--size-mix", new[] { "--to", "a@b", "--size-mix", "1KiB:70,10KiB" })]
    [InlineData("--size-mix", new[] { "--to", "a@b", "--size-mix", "1KiB:0" })]
    [InlineData("--size-mix", new[] { "--to", "a@b", "--size", "1KiB", "--size-mix", "1KiB:1" })]
    [InlineData("--server", new[] { "--to", "a@b", "--server", "localhost" })]
    [InlineData("--server", new[] { "--to", "a@b", "--server", "localhost:99999" })]
    [InlineData("--to", new[] { "--messages", "5" })]
    [InlineData("--to", new[] { "--to", "alice smith@localhost" })]
    [InlineData("--from", new[] { "--to", "a@b", "--from", "<x@y>" })]
    [InlineData("--timeout", new[] { "--to", "a@b", "--timeout", "0s" })]
    [InlineData("--timeout", new[] { "--to", "a@b", "--timeout", "soon" })]
    [InlineData("--pipelining", new[] { "--to", "a@b", "--helo", "--pipelining" })]
    [InlineData("--bdat", new[] { "--to", "a@b", "--helo", "--bdat" })]
    [InlineData("--reuse", new[] { "--to", "a@b", "--reuse=yes" })]
    [InlineData("--starttls", new[] { "--to", "a@b", "--starttls", "--implicit-tls" })]
    [InlineData("--starttls", new[] { "--to", "a@b", "--helo", "--starttls" })]
    [InlineData("--auth", new[] { "--to", "a@b", "--auth", "alice" })]
    [InlineData("--auth", new[] { "--to", "a@b", "--auth", "alice:" })]
    [InlineData("--json", new[] { "--to", "a@b", "--json" })]
    [InlineData("--json", new[] { "--to", "a@b", "--json", "--reuse" })]
    [InlineData("--bogus", new[] { "--to", "a@b", "--bogus" })]
    [InlineData("--to", new[] { "--to", "a@b", "--to", "c@d" })]
    [InlineData("stray", new[] { "--to", "a@b", "stray" })]
    public void BadSmtpOptionsAreUsageErrorsNamingTheOption(string option, string[] args)
    {
        var e = Assert.Throws<UsageException>(() => OptionParser.ParseSmtp(args));
        Assert.StartsWith(option + ":", e.Message);
    }

    [Fact]
    public void IdleOptionsAreParsed()
    {
        IdleBenchOptions o = OptionParser.ParseIdle(["--server", "127.0.0.1:2700", "--connections", "10000", "--hold", "30s"]);
        Assert.Equal(10000, o.Connections);
        Assert.Equal(TimeSpan.FromSeconds(30), o.Hold);
        var e = Assert.Throws<UsageException>(() => OptionParser.ParseIdle(["--hold", "forever"]));
        Assert.StartsWith("--hold:", e.Message);
    }

    [Fact]
    public void SendmailTakesTheCommandRepeatedVariablesAndTheCounts()
    {
        SendmailBenchOptions o = OptionParser.ParseSendmail(["--command", "/usr/sbin/sendmail", "--env", "MAIL_CONFIG=/tmp/pf", "--env=A=b=c",
            "--to", "user@example.test", "--processes", "8", "--messages", "50", "--size", "10KiB"]);
        Assert.Equal("/usr/sbin/sendmail", o.Command);
        Assert.Equal(["MAIL_CONFIG=/tmp/pf", "A=b=c"], o.Environment);
        Assert.Equal((8, 50, 10240), (o.Processes, o.Messages, o.Size));
        Assert.StartsWith("--command:", Assert.Throws<UsageException>(() => OptionParser.ParseSendmail(["--to", "a@b"])).Message);
        Assert.StartsWith("--env:", Assert.Throws<UsageException>(() => OptionParser.ParseSendmail(["--command", "x", "--to", "a@b", "--env", "NOVALUE"])).Message);
    }

    [Fact]
    public async Task CommandLineMistakesExitWith64AndNameTheOption()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await BenchCommand.RunAsync(["smtp", "--to", "a@b", "--size", "huge"], output, error, overwriteProgress: false);
        Assert.Equal(64, code);
        Assert.Contains("--size:", error.ToString());
        Assert.Equal(64, await BenchCommand.RunAsync(["flood"], output, error, false));
        Assert.Contains("flood: unknown mode", error.ToString());
        Assert.Equal(64, await BenchCommand.RunAsync([], output, error, false));
        Assert.Equal(0, await BenchCommand.RunAsync(["--help"], output, error, false));
        Assert.Contains("--until-delivered", output.ToString());
    }
}
