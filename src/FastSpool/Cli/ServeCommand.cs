using System.Runtime.InteropServices;
using FastSpool.Configuration;
using FastSpool.Queue;
using FastSpool.Server;
using Microsoft.Extensions.Logging;

namespace FastSpool.Cli;

/// <summary><c>fastspool serve</c>: runs the server until SIGTERM, SIGINT or SIGQUIT, each a logged clean stop;
/// SIGHUP rereads the configuration. Whatever stops it from starting is one line in the log's format on standard
/// error, and a sysexits code.</summary>
internal static class ServeCommand
{
    public static async Task<int> RunAsync(FastSpoolOptions options, Func<(FastSpoolOptions? Options, string? Error)> reload, TextWriter error)
    {
        FastSpoolServer server;
        try
        {
            server = await FastSpoolServer.StartAsync(options).ConfigureAwait(false);
        }
        catch (ServerStartException e)
        {
            return CannotStart(error, e.Message, e.Failure switch
            {
                StartFailure.AddressInUse => ExitCode.Unavailable,
                StartFailure.AddressNotAvailable => ExitCode.Config,
                StartFailure.PermissionDenied => ExitCode.NoPermission,
                StartFailure.DataDirectoryNotWritable => ExitCode.CantCreate,
                StartFailure.Configuration => ExitCode.Config,
                _ => ExitCode.TempFail,
            });
        }
        catch (QueueOpenException e)
        {
            return CannotStart(error, e.Message, ExitCode.IoError);
        }
        catch (InvalidOperationException e)
        {
            return CannotStart(error, e.Message, ExitCode.Config);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return CannotStart(error, e.Message, ExitCode.IoError);
        }

        var stop = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Stop(c, stop));
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Stop(c, stop));
        using PosixSignalRegistration quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => Stop(c, stop));
        using PosixSignalRegistration hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
        {
            c.Cancel = true;
            server.Reload(reload);
        });
        string signal = await stop.Task.ConfigureAwait(false);
        await server.StopAsync($"stopping on {signal}").ConfigureAwait(false);
        return ExitCode.Ok;
    }

    private static void Stop(PosixSignalContext context, TaskCompletionSource<string> stop)
    {
        context.Cancel = true;
        stop.TrySetResult(context.Signal.ToString());
    }

    private static int CannotStart(TextWriter error, string message, int exitCode)
    {
        error.Write(FastSpoolServer.FormatLogLine(LogLevel.Critical, "cannot start: " + message));
        return exitCode;
    }
}
