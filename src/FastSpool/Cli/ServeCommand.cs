using System.Runtime.InteropServices;
using FastSpool.Configuration;
using FastSpool.Queue;
using FastSpool.Server;

namespace FastSpool.Cli;

/// <summary><c>fastspool serve</c>: runs the server until SIGTERM or SIGINT.</summary>
internal static class ServeCommand
{
    public static async Task<int> RunAsync(FastSpoolOptions options, TextWriter error)
    {
        FastSpoolServer server;
        try
        {
            server = await FastSpoolServer.StartAsync(options).ConfigureAwait(false);
        }
        catch (QueueOpenException e)
        {
            error.WriteLine("fastspool: cannot start: " + e.Message);
            return ExitCode.IoError;
        }
        catch (InvalidOperationException e)
        {
            error.WriteLine("fastspool: cannot start: " + e.Message);
            return ExitCode.TempFail;
        }
        catch (IOException e)
        {
            error.WriteLine("fastspool: cannot start: " + e.Message);
            return ExitCode.IoError;
        }

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
        await stop.Task.ConfigureAwait(false);
        error.WriteLine("fastspool: stopping");
        await server.DisposeAsync().ConfigureAwait(false);
        return ExitCode.Ok;
    }
}
