using FastSpool.Cli;
using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests.Cli;

/// <summary>The native <c>fastspool</c>, as installed, against a running <c>fastspool serve</c>.</summary>
public sealed class CommandLineProcessTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "fastspool-cli-" + Guid.NewGuid().ToString("N")[..12]);

    public CommandLineProcessTests() => Directory.CreateDirectory(_data);

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private static async Task<CliResult> RunAsync(params string[] args) => await ChildProcess.RunAsync(await NativeBuild.FastSpoolAsync(), args);

    [Fact]
    public async Task TheExecutablePrintsItsVersion()
    {
        CliResult result = await RunAsync("--version");
        Assert.Equal(0, result.Code);
        Assert.Equal(VersionAction.Version + "\n", result.Out);
    }

    [Fact]
    public async Task MailqReachesTheRunningServerAndKnowsWhenItHasStopped()
    {
        using (ServerProcess server = await ServerProcess.StartAsync(_data, TestServer.FreePort()))
        {
            CliResult running = await RunAsync("mailq", "--data", _data);
            // Until the queue manager offers IQueueControl the server answers 503; then the queue is empty.
            Assert.True(running is { Code: 69, Out: "", Error: "fastspool: queue manager not available\n" }
                || running is { Code: 0, Out: "Mail queue is empty\n", Error: "" }, running.ToString());
            await server.StopAsync();
        }
        CliResult stopped = await RunAsync("mailq", "--data", _data);
        Assert.Equal(69, stopped.Code);
        Assert.Equal($"fastspool: the server is not running (no control socket at {Path.Combine(_data, "control.sock")})\n", stopped.Error);
    }
}
