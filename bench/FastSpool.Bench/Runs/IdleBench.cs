using System.Diagnostics;
using System.Net;
using FastSpool.Bench.Cli;
using FastSpool.Bench.Posix;
using FastSpool.Bench.Smtp;
using FastSpool.Bench.Stats;

namespace FastSpool.Bench.Runs;

/// <summary>
/// The <c>idle</c> run: opens N sessions (greeting and EHLO) with bounded concurrency, holds them silent, counts the
/// ones still open and quiet, then QUITs them.
/// </summary>
internal sealed class IdleBench : IDisposable
{
    private const int BufferSize = 1024;
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly IdleBenchOptions _options;
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly ProgressLine _progress;
    private readonly SmtpConnection?[] _connections;
    private readonly BenchStatistics _failures = new(0);
    private readonly SemaphoreSlim _gate;
    private readonly List<string> _warnings = [];
    private IPEndPoint? _server;
    private int _opened;
    private int _attempted;
    private int _quitOk;

    private IdleBench(IdleBenchOptions options, TextWriter output, TextWriter error, bool overwriteProgress)
    {
        _options = options;
        _output = output;
        _error = error;
        _progress = new ProgressLine(error, overwriteProgress);
        _connections = new SmtpConnection?[options.Connections];
        _gate = new SemaphoreSlim(options.ConnectConcurrency);
    }

    public static async Task<int> RunAsync(IdleBenchOptions options, TextWriter output, TextWriter error, bool overwriteProgress)
    {
        using var bench = new IdleBench(options, output, error, overwriteProgress);
        return await bench.RunAsync();
    }

    public void Dispose() => _gate.Dispose();

    private async Task<int> RunAsync()
    {
        _server = _options.Server.Resolve();
        long wanted = _options.Connections + 256L;
        long limit = Libc.RaiseOpenFileLimit(wanted);
        if (limit >= 0 && limit < wanted)
            _warnings.Add($"the open-file limit is {limit}, too low for {_options.Connections} connections; raise it with ulimit -n {wanted}");

        long start = Stopwatch.GetTimestamp();
        try
        {
            var opening = new Task[_options.Connections];
            for (int i = 0; i < opening.Length; i++)
                opening[i] = OpenAsync(i);
            await SuperviseAsync(Task.WhenAll(opening), "opening", () => Volatile.Read(ref _attempted));
            long opened = Stopwatch.GetTimestamp();

            long holdEnd = opened + (long)(_options.Hold.TotalSeconds * Stopwatch.Frequency);
            for (long now = opened; now < holdEnd; now = Stopwatch.GetTimestamp())
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(1.0, (holdEnd - now) / (double)Stopwatch.Frequency)));
                _progress.Show($"holding {_opened} sessions, {Math.Max(0, holdEnd - Stopwatch.GetTimestamp()) / Stopwatch.Frequency} s left");
            }
            _progress.Finish();
            long held = Stopwatch.GetTimestamp();

            int quiet = 0;
            foreach (SmtpConnection? connection in _connections)
            {
                if (connection?.IsQuiet() == true)
                    quiet++;
            }

            var quitting = new List<Task>(quiet);
            foreach (SmtpConnection? connection in _connections)
            {
                if (connection?.IsQuiet() == true)
                    quitting.Add(QuitAsync(connection));
            }
            await SuperviseAsync(Task.WhenAll(quitting), "quitting", () => Volatile.Read(ref _quitOk));
            long end = Stopwatch.GetTimestamp();

            var report = new IdleReport
            {
                Server = _options.Server.ToString(),
                Connections = _options.Connections,
                Opened = _opened,
                OpenAfterHold = quiet,
                QuitOk = _quitOk,
                OpenS = Math.Round(Seconds(opened - start), 3),
                HoldS = Math.Round(Seconds(held - opened), 3),
                Errors = _failures.ErrorsByKind(),
                WallS = Math.Round(Seconds(end - start), 3),
                Warnings = _warnings,
            };
            ReportPrinter.Print(report, _output);
            if (_options.JsonPath is string path)
            {
                try
                {
                    ReportPrinter.WriteJson(report, path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _error.WriteLine($"fastspool-bench: --json: cannot write {path}: {e.Message}");
                    return ExitCodes.Failed;
                }
            }
            return quiet == _options.Connections ? ExitCodes.Ok : ExitCodes.Failed;
        }
        finally
        {
            foreach (SmtpConnection? connection in _connections)
                connection?.Dispose();
        }
    }

    private async Task OpenAsync(int index)
    {
        await _gate.WaitAsync();
        var connection = new SmtpConnection(BufferSize);
        _connections[index] = connection;
        int outcome;
        try
        {
            try
            {
                await connection.OpenAsync(_server!);
                outcome = await connection.ReadReplyAsync();
                if (outcome == 220)
                {
                    await connection.WriteAsync(SmtpWire.Ehlo);
                    outcome = await connection.ReadReplyAsync();
                }
                else if (outcome / 100 == 2)
                {
                    outcome = Failure.Protocol;
                }
            }
            catch (Exception e) when (SmtpConnection.IsTransportError(e))
            {
                outcome = connection.TimedOut ? Failure.Timeout : connection.IsOpen ? Failure.Io : Failure.Connect;
            }
            if (outcome / 100 == 2)
            {
                Interlocked.Increment(ref _opened);
            }
            else
            {
                _failures.RecordFailure(outcome);
                connection.Close();
            }
        }
        finally
        {
            Interlocked.Increment(ref _attempted);
            _gate.Release();
        }
    }

    private async Task QuitAsync(SmtpConnection connection)
    {
        await _gate.WaitAsync();
        try
        {
            await connection.WriteAsync(SmtpWire.Quit);
            if (await connection.ReadReplyAsync() == 221)
                Interlocked.Increment(ref _quitOk);
        }
        catch (Exception e) when (SmtpConnection.IsTransportError(e))
        {
            // Counted by the missing 221.
        }
        finally
        {
            connection.Close();
            _gate.Release();
        }
    }

    private async Task SuperviseAsync(Task work, string phase, Func<int> done)
    {
        long limit = (long)(_options.Timeout.TotalSeconds * Stopwatch.Frequency);
        while (!work.IsCompleted)
        {
            await Task.WhenAny(work, Task.Delay(Tick));
            long now = Stopwatch.GetTimestamp();
            foreach (SmtpConnection? connection in _connections)
                connection?.AbortIfStalled(now, limit);
            if (!work.IsCompleted)
                _progress.Show($"{phase}: {done()} of {_options.Connections}, {_opened} open");
        }
        await work;
        _progress.Finish();
    }

    private static double Seconds(long ticks) => Math.Max(ticks, 1) / (double)Stopwatch.Frequency;
}
