using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace FastSpool.Server.Tests.Support;

/// <summary>The real <c>fastspool serve</c>, the native program as installed, as a child process, so that it can be
/// killed with SIGKILL.</summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process, string dataDirectory)
    {
        _process = process;
        // The default Sendmail:Socket, beside the data directory: outside it, so a killed server leaves it in the
        // temporary directory after the test deletes the data.
        _sendmailSocket = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory)) + ".sendmail.sock";
    }

    private readonly string _sendmailSocket;

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public bool HasExited => _process.HasExited;

    public int Id => _process.Id;

    public static Task<ServerProcess> StartAsync(string dataDirectory, int port, params string[] extra) =>
        StartAsync([], dataDirectory, port, extra);

    /// <summary>Starts the server from a shell that first sets <paramref name="umask"/> (octal, as umask(1) takes it).</summary>
    public static Task<ServerProcess> StartWithUmaskAsync(string umask, string dataDirectory, int port, params string[] extra) =>
        // exec: the server is the shell's process, so that Kill and StopAsync reach it.
        StartAsync(["/bin/sh", "-c", "umask \"$0\" && exec \"$@\"", umask], dataDirectory, port, extra);

    /// <param name="wrapper">A command that runs the server, such as setpriv with fewer rights; none when empty.</param>
    public static async Task<ServerProcess> StartAsync(string[] wrapper, string dataDirectory, int port, params string[] extra)
    {
        string program = await NativeBuild.FastSpoolAsync();
        var info = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])[.. wrapper.Skip(1), .. wrapper.Length > 0 ? [program] : (string[])[], "serve", "--data", dataDirectory, $"--Smtp:Listen:0=127.0.0.1:{port}",
                     "--Users:System=false", "--LocalDomains:0=localhost", "--Smtp:Hostname=crash.test",
                     .. extra.Any(e => e.StartsWith("--Pop3:Listen", StringComparison.Ordinal)) ? (string[])[] : [$"--Pop3:Listen:0=127.0.0.1:{TestServer.FreePort()}"], .. extra])
            info.ArgumentList.Add(arg);
        var process = new Process { StartInfo = info };
        var server = new ServerProcess(process, dataDirectory);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await server._started.Task.WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            server.Kill();
            Assert.Fail("server did not start: " + server.Output);
        }
        return server;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            _started.TrySetException(new InvalidOperationException("server exited: " + Output));
            return;
        }
        lock (_output)
            _output.AppendLine(line);
        if (line.Contains("FastSpool started", StringComparison.Ordinal))
            _started.TrySetResult();
        else if (line.Contains("cannot start", StringComparison.Ordinal))
            _started.TrySetException(new InvalidOperationException(line));
    }

    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true); // SIGKILL on Linux
            _process.WaitForExit();
        }
    }

    /// <summary>Sends <paramref name="signal"/> (<c>HUP</c>, <c>QUIT</c>...) to the server.</summary>
    public void Signal(string signal) => Process.Start("kill", ["-" + signal, _process.Id.ToString()])!.WaitForExit();

    /// <summary>Waits until the output holds <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan? timeout = null) =>
        Wait.UntilAsync(() => Output.Contains(text, StringComparison.Ordinal), timeout ?? TimeSpan.FromSeconds(30), $"'{text}' in the server's output", () => Output);

    /// <summary>Waits for the process to end after a signal; its exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, then wait for the clean stop.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
            return;
        Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
    }

    public void Dispose()
    {
        Kill();
        File.Delete(_sendmailSocket);
        _process.Dispose();
    }
}
