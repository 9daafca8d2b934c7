using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using FastSpool.Cli;
using FastSpool.Configuration;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace FastSpool.Server.Tests;

/// <summary>What stops <c>fastspool serve</c> from starting is one line in the log's format and a sysexits code, and
/// the listen addresses the README shows work together.</summary>
public sealed class StartFailureTests : IDisposable
{
    private const string Stamp = @"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "fastspool-start-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    // Each server gets a POP3 port of its own, so that tests running at once do not take each other's.
    private static string Pop3Listen => $"--Pop3:Listen:0=127.0.0.1:{TestServer.FreePort()}";

    private CliResult Serve(params string[] listen) =>
        CliRunner.Run(["serve", "--data", _data, "--Users:System=false", Pop3Listen, .. listen.Select((l, i) => $"--Smtp:Listen:{i}={l}")]);

    private static void AssertOneLine(CliResult result, int code, string message)
    {
        Assert.Equal(code, result.Code);
        Assert.Matches(new Regex($"^{Stamp} fastspool fatal: cannot start: {Regex.Escape(message)}\n$"), result.Error);
        Assert.DoesNotContain("http://", result.Error + result.Out);
        Assert.DoesNotContain("   at ", result.Error + result.Out);
    }

    [Fact]
    public void AnAddressInUseIsOneLineAndExitCode69()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        AssertOneLine(Serve($"127.0.0.1:{port}"), 69, $"cannot listen on 127.0.0.1:{port}: address already in use");
    }

    [Fact]
    public void AMetricsPortInUseIsOneLineAndExitCode69()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        CliResult result = CliRunner.Run(["serve", "--data", _data, "--Users:System=false", Pop3Listen, $"--Smtp:Listen:0=127.0.0.1:{TestServer.FreePort()}",
            $"--Metrics:Listen:0=127.0.0.1:{port}"]);
        AssertOneLine(result, 69, $"cannot listen on 127.0.0.1:{port}: address already in use");
    }

    [Fact]
    public void AnAddressOfAnotherHostIsOneLineAndExitCode78()
    {
        int port = TestServer.FreePort();
        AssertOneLine(Serve($"192.0.2.1:{port}"), 78, $"cannot listen on 192.0.2.1:{port}: not an address of this host");
    }

    [Fact]
    public async Task APrivilegedPortWithoutTheRightIsOneLineAndExitCode77()
    {
        // Root without CAP_NET_BIND_SERVICE: the capability is dropped from the bounding set of the child.
        Assert.True(File.Exists("/usr/bin/setpriv"), "setpriv (util-linux) is needed to drop CAP_NET_BIND_SERVICE");
        CliResult result = await ChildProcess.RunAsync("setpriv", ["--bounding-set", "-net_bind_service", "--inh-caps", "-net_bind_service", "dotnet",
            ChildProcess.FastSpoolDll, "serve", "--data", _data, "--Users:System=false", Pop3Listen, "--Smtp:Listen:0=127.0.0.1:25"]);
        AssertOneLine(result, 77,
            "cannot listen on 127.0.0.1:25: permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)");
    }

    [SmallDiskFact]
    public void AReadOnlyDataDirectoryIsNamedAsSuch()
    {
        using SmallDisk disk = SmallDisk.Mount(1);
        disk.MakeReadOnly();
        CliResult result = CliRunner.Run("serve", "--data", disk.Path, "--Users:System=false", Pop3Listen, $"--Smtp:Listen:0=127.0.0.1:{TestServer.FreePort()}");
        AssertOneLine(result, 73, $"the data directory {disk.Path} is on a read-only file system");
    }

    [Fact]
    public void AConfigurationErrorOfServeIsALogLineToo()
    {
        CliResult result = CliRunner.Run("serve", "--data", _data, "--Smtp:MaxRecipients=0");
        Assert.Equal(78, result.Code);
        Assert.Matches(new Regex($"^{Stamp} fastspool fatal: cannot start: configuration error: Smtp:MaxRecipients: "), result.Error);
    }

    [Theory]
    [InlineData("127.0.0.1", "[::1]")]
    [InlineData("0.0.0.0", "[::]")]
    public async Task IPv4AndIPv6OnTheSamePortBothAcceptMail(string v4, string v6)
    {
        int port = TestServer.FreePort();
        await using TestServer server = await TestServer.StartAsync(o => o.Smtp.Listen = [$"{v4}:{port}", $"{v6}:{port}"]);
        foreach (string host in (string[])["127.0.0.1", "::1"])
        {
            using var client = new SmtpClient();
            await client.ConnectAsync(host, port, SecureSocketOptions.None);
            await client.SendAsync(TestMessage.Create("over " + host, "hello\n", "alice@localhost"));
            await client.DisconnectAsync(true);
        }
        var delivered = await server.DeliveredAsync("alice", 2);
        Assert.Equal(["over 127.0.0.1", "over ::1"], delivered.Select(d => d.Message.Subject));
    }

    [Fact]
    public async Task TheReadmesExampleConfigurationStartsAsWritten()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        string json = Regex.Match(readme, "## Configuration.*?```json\n(?<json>.*?)```", RegexOptions.Singleline).Groups["json"].Value;
        Assert.Contains("\"0.0.0.0:25\", \"[::]:25\"", json);
        // As written but for the port (25 may be taken on a test machine) and the data directory.
        int port = TestServer.FreePort();
        Directory.CreateDirectory(_data);
        string file = Path.Combine(_data, "fastspool.json");
        File.WriteAllText(file, json.Replace(":25\"", $":{port}\"", StringComparison.Ordinal));
        FastSpoolOptions options = Settings.Load(["--config", file, "--data", _data]);
        Assert.Equal([$"0.0.0.0:{port}", $"[::]:{port}"], options.Smtp.Listen);
        await using FastSpoolServer server = await FastSpoolServer.StartAsync(options, FastSpoolServer.CreateLoggerFactory(Microsoft.Extensions.Logging.LogLevel.Warning));
        foreach (string host in (string[])["127.0.0.1", "::1"])
        {
            using var client = new SmtpClient();
            await client.ConnectAsync(host, port, SecureSocketOptions.None);
            await client.DisconnectAsync(true);
        }
    }

    internal static string RepositoryRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "FastSpool.sln")))
            dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("the repository root (FastSpool.sln) is not above " + AppContext.BaseDirectory);
    }
}
