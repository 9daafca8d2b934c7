using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Net;
using FastSpool.Bench.Cli;
using FastSpool.Bench.Delivery;
using FastSpool.Bench.Messages;
using FastSpool.Bench.Posix;
using FastSpool.Bench.Smtp;
using FastSpool.Bench.Stats;

namespace FastSpool.Bench.Runs;

/// <summary>
/// The <c>smtp</c> run: N sessions take message numbers from one counter until M are done; a once-a-second loop
/// shows progress, aborts stalled connections and samples the server's RSS; then, if asked, waits for delivery.
/// </summary>
internal sealed class SmtpBench
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly SmtpBenchOptions _options;
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly ProgressLine _progress;
    private readonly List<string> _warnings = [];
    private long _next;

    private SmtpBench(SmtpBenchOptions options, TextWriter output, TextWriter error, bool overwriteProgress)
    {
        _options = options;
        _output = output;
        _error = error;
        _progress = new ProgressLine(error, overwriteProgress);
    }

    public static Task<int> RunAsync(SmtpBenchOptions options, TextWriter output, TextWriter error, bool overwriteProgress) =>
        new SmtpBench(options, output, error, overwriteProgress).RunAsync();

    private async Task<int> RunAsync()
    {
        IPEndPoint server = _options.Server.Resolve();
        ServerProbe? probe = null;
        if (_options.ServerPid is int pid)
        {
            probe = new ServerProbe(pid);
            if (!probe.Found)
                throw new UsageException($"--server-pid: cannot read /proc/{pid}/stat (no such process?)");
        }
        ServerStatisticsLog? statisticsLog = _options.ServerLog is string logPath ? new ServerStatisticsLog(logPath) : null;
        ServerStatistics? statisticsBefore = null;
        if (statisticsLog is not null)
        {
            // A fresh line, so that nothing the server did before the run is counted.
            statisticsBefore = await statisticsLog.WaitForNewAsync(statisticsLog.ReadLast(), _options.Timeout)
                ?? throw new UsageException($"--server-log: no new statistics line appeared in {statisticsLog.Path} (is StatisticsInterval short?)");
        }
        int workers = Math.Min(_options.Connections, _options.Messages);
        RaiseOpenFileLimit(workers);

        string runId = string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow.Ticks:x}.{Environment.ProcessId}");
        var factory = new MessageFactory(_options.From, _options.To, _options.Sizes, DateTimeOffset.Now, runId);
        var statistics = new BenchStatistics(_options.Messages);
        using IDeliveredCounter? counter = _options.UntilDelivered is string path ? DeliveredCounter.Open(path) : null;

        X509Certificate2Collection? trust = null;
        if (_options.TrustCertificate is string trustPath)
        {
            trust = [];
            try
            {
                trust.ImportFromPemFile(trustPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new UsageException($"--trust: {trustPath}: {e.Message}");
            }
        }
        var sessions = new SmtpSession[workers];
        for (int i = 0; i < workers; i++)
            sessions[i] = new SmtpSession(_options, server, factory, statistics, trust);
        try
        {
            TimeSpan cpuAtStart = Environment.CpuUsage.TotalTime;
            long allocatedAtStart = GC.GetTotalAllocatedBytes();
            long start = Stopwatch.GetTimestamp();
            var running = new Task[workers];
            for (int i = 0; i < workers; i++)
                running[i] = RunSessionAsync(sessions[i]);
            await SupervisedAsync(Task.WhenAll(running), sessions, statistics, probe, start);
            long sent = Stopwatch.GetTimestamp();
            var client = (Environment.CpuUsage.TotalTime - cpuAtStart, GC.GetTotalAllocatedBytes() - allocatedAtStart);

            (long delivered, long deliveredAt, bool timedOut) = counter is null
                ? (0, 0, false)
                : await WaitForDeliveryAsync(counter, statistics.Accepted, probe);

            double? serverAlloc = null;
            if (statisticsLog is not null
                && await statisticsLog.WaitForNewAsync(statisticsLog.ReadLast(), _options.Timeout) is ServerStatistics after
                && after.Accepted > statisticsBefore!.Value.Accepted)
            {
                ServerStatistics before = statisticsBefore.Value;
                serverAlloc = Math.Round((after.Allocated - before.Allocated) / (double)(after.Accepted - before.Accepted), 1);
            }
            else if (statisticsLog is not null)
            {
                _warnings.Add($"--server-log: no statistics line after the run counted its messages in {statisticsLog.Path}");
            }
            SmtpReport report = Report(statistics, client, probe, start, sent, counter is null ? null : delivered, deliveredAt, timedOut, serverAlloc);
            ReportPrinter.Print(report, _output);
            if (_options.JsonPath is string json && !TryWriteJson(report, json))
                return ExitCodes.Failed;
            return statistics.Errors > 0 || timedOut ? ExitCodes.Failed : ExitCodes.Ok;
        }
        finally
        {
            foreach (SmtpSession session in sessions)
                session.Dispose();
        }
    }

    // Runs synchronously up to the first connect, so every session takes its first message (and opens its
    // connection) at the start, before any other can finish the run.
    private async Task RunSessionAsync(SmtpSession session)
    {
        long total = _options.Messages;
        while (true)
        {
            long number = Interlocked.Increment(ref _next);
            if (number > total)
                break;
            await session.SendAsync(number);
        }
        await session.CloseAsync();
    }

    /// <summary>Until the sessions are done: progress, the stall watchdog and RSS samples, once a second.</summary>
    private async Task SupervisedAsync(Task sending, SmtpSession[] sessions, BenchStatistics statistics, ServerProbe? probe, long start)
    {
        long limit = (long)(_options.Timeout.TotalSeconds * Stopwatch.Frequency);
        long lastDone = 0;
        long lastTime = start;
        while (!sending.IsCompleted)
        {
            await Task.WhenAny(sending, Task.Delay(Tick));
            long now = Stopwatch.GetTimestamp();
            foreach (SmtpSession session in sessions)
                session.Connection.AbortIfStalled(now, limit);
            probe?.PollRss();
            if (sending.IsCompleted)
                break;
            long done = statistics.Done;
            double rate = (done - lastDone) / Seconds(now - lastTime);
            _progress.Show($"{Seconds(now - start),6:F0} s {rate,9:F0} msg/s {done,10}/{_options.Messages} done, {statistics.Errors} errors");
            lastDone = done;
            lastTime = now;
        }
        await sending;
        _progress.Finish();
    }

    private async Task<(long Delivered, long At, bool TimedOut)> WaitForDeliveryAsync(IDeliveredCounter counter, long target, ServerProbe? probe)
    {
        long begin = Stopwatch.GetTimestamp();
        long deadline = begin + (long)(_options.Timeout.TotalSeconds * Stopwatch.Frequency);
        long nextShow = begin + Stopwatch.Frequency;
        long delivered = counter.Count();
        while (delivered < target)
        {
            long now = Stopwatch.GetTimestamp();
            if (now > deadline)
            {
                _progress.Finish();
                return (delivered, now, true);
            }
            if (now >= nextShow)
            {
                probe?.PollRss();
                _progress.Show($"{Seconds(now - begin),6:F0} s waiting for delivery: {delivered}/{target} in {_options.UntilDelivered}");
                nextShow = now + Stopwatch.Frequency;
            }
            await Task.Delay(counter.PollInterval);
            delivered = counter.Count();
        }
        long at = Stopwatch.GetTimestamp();
        _progress.Finish();
        return (delivered, at, false);
    }

    private SmtpReport Report(BenchStatistics statistics, (TimeSpan Cpu, long Allocated) client, ServerProbe? probe, long start, long sent,
        long? delivered, long deliveredAt, bool timedOut, double? serverAlloc)
    {
        double wall = Seconds(sent - start);
        if (statistics.WithoutPipelining > 0)
            _warnings.Add($"the server did not offer PIPELINING on {statistics.WithoutPipelining} connections; they sent one command at a time");
        if (statistics.WithoutChunking > 0)
            _warnings.Add($"the server did not offer CHUNKING on {statistics.WithoutChunking} connections; they used DATA");
        double? e2e = null;
        double? e2eSeconds = null;
        if (delivered is not null && !timedOut && statistics.Accepted > 0)
        {
            e2eSeconds = Math.Round(Seconds(deliveredAt - start), 3);
            e2e = Math.Round(statistics.Accepted / Seconds(deliveredAt - start), 1);
        }
        double? cpu = probe?.CpuSecondsUsed();
        return new SmtpReport
        {
            Server = _options.Server.ToString(),
            Connection = _options.Reuse ? "reuse" : "per-message",
            Greeting = _options.Helo ? "HELO" : "EHLO",
            Pipelining = _options.Pipelining,
            Bdat = _options.Bdat,
            Connections = _options.Connections,
            Messages = _options.Messages,
            Size = _options.Sizes.ToString(),
            Accepted = statistics.Accepted,
            AcceptedBytes = statistics.AcceptedBytes,
            AcceptMsgsPerS = Math.Round(statistics.Accepted / wall, 1),
            AcceptMbPerS = Math.Round(statistics.AcceptedBytes / 1e6 / wall, 3),
            LatencyMs = statistics.SummarizeLatencies(),
            Errors = statistics.ErrorsByKind(),
            Delivered = delivered,
            E2eMsgsPerS = e2e,
            E2eS = e2eSeconds,
            DeliveryTimeout = timedOut,
            WallS = Math.Round(wall, 3),
            ServerCpuS = cpu is double c ? Math.Round(c, 2) : null,
            ServerPeakRssKb = probe?.PeakRssKb,
            ServerAllocBytesPerMsg = serverAlloc,
            ClientCpuS = Math.Round(client.Cpu.TotalSeconds, 2),
            ClientAllocBytesPerMsg = Math.Round(client.Allocated / (double)_options.Messages, 1),
            Warnings = _warnings,
        };
    }

    private void RaiseOpenFileLimit(int connections)
    {
        long wanted = connections + 256L;
        long limit = Libc.RaiseOpenFileLimit(wanted);
        if (limit >= 0 && limit < wanted)
            _warnings.Add($"the open-file limit is {limit}, too low for {connections} connections; raise it with ulimit -n");
    }

    private bool TryWriteJson(SmtpReport report, string path)
    {
        try
        {
            ReportPrinter.WriteJson(report, path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _error.WriteLine($"fastspool-bench: --json: cannot write {path}: {e.Message}");
            return false;
        }
    }

    private static double Seconds(long ticks) => Math.Max(ticks, 1) / (double)Stopwatch.Frequency;
}
