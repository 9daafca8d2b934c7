using System.Diagnostics;
using System.Globalization;
using System.Text;
using FastSpool.Bench.Cli;
using FastSpool.Bench.Delivery;
using FastSpool.Bench.Stats;

namespace FastSpool.Bench.Runs;

/// <summary>The <c>sendmail</c> run: N workers at once, each running the sendmail command M times in a row with a
/// message on its standard input (<c>-i RECIPIENT</c>). Reports invocations per second and the latency of one
/// invocation, from process start to exit, which is what a program calling sendmail waits for. The same run
/// measures FastSpool's sendmail or Postfix's (postdrop).</summary>
internal static class SendmailBench
{
    public static async Task<int> RunAsync(SendmailBenchOptions options, TextWriter output, TextWriter error)
    {
        byte[] message = Message(options.Size);
        var latencies = new long[options.Processes * options.Messages];
        int failures = 0;
        string? firstFailure = null;
        using IDeliveredCounter? counter = options.UntilDelivered is null ? null : DeliveredCounter.Open(options.UntilDelivered);
        long start = Stopwatch.GetTimestamp();
        Task[] workers = [.. Enumerable.Range(0, options.Processes).Select(worker => Task.Run(async () =>
        {
            for (int i = 0; i < options.Messages; i++)
            {
                long began = Stopwatch.GetTimestamp();
                (int code, string stderr) = await InvokeAsync(options, message);
                latencies[(worker * options.Messages) + i] = Stopwatch.GetTimestamp() - began;
                if (code != 0 && Interlocked.Increment(ref failures) == 1)
                    firstFailure = $"exit {code}: {stderr.Trim()}";
            }
        }))];
        await Task.WhenAll(workers);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double? deliveredSeconds = null;
        if (counter is not null)
        {
            long wanted = latencies.Length - failures;
            var deadline = Stopwatch.StartNew();
            while (counter.Count() < wanted && deadline.Elapsed < options.Timeout)
                await Task.Delay(10);
            deliveredSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        Array.Sort(latencies);
        double Ms(int perMille) => Percentiles.NearestRank(latencies, perMille) * 1000.0 / Stopwatch.Frequency;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"command      {options.Command} -i {options.To}");
        text.AppendLine(CultureInfo.InvariantCulture, $"invocations  {latencies.Length} ({options.Processes} at once x {options.Messages}), {failures} failed, {options.Size} B bodies");
        text.AppendLine(CultureInfo.InvariantCulture, $"rate         {latencies.Length / seconds:F1} invocations/s ({seconds:F2} s)");
        if (deliveredSeconds is { } d)
            text.AppendLine(CultureInfo.InvariantCulture, $"delivered    {latencies.Length / d:F1} messages/s end to end ({d:F2} s)");
        text.AppendLine(CultureInfo.InvariantCulture, $"latency ms   p50 {Ms(500):F1}  p90 {Ms(900):F1}  p99 {Ms(990):F1}  max {Ms(1000):F1}");
        output.Write(text.ToString());
        if (firstFailure is not null)
            error.WriteLine("fastspool-bench: first failure: " + firstFailure);
        return failures == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static async Task<(int Code, string Error)> InvokeAsync(SendmailBenchOptions options, byte[] message)
    {
        var info = new ProcessStartInfo(options.Command)
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-i");
        info.ArgumentList.Add(options.To);
        foreach (string variable in options.Environment)
        {
            int eq = variable.IndexOf('=', StringComparison.Ordinal);
            info.Environment[variable[..eq]] = variable[(eq + 1)..];
        }
        using Process process = Process.Start(info)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.StandardInput.BaseStream.WriteAsync(message);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It stopped reading (and exits with the reason).
        }
        using var timeout = new CancellationTokenSource(options.Timeout);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stderr);
    }

    /// <summary>A message as a program writes it: LF line ends, a few headers, 78-character lines.</summary>
    private static byte[] Message(int size)
    {
        var text = new StringBuilder("From: bench@example.org\nSubject: fastspool-bench sendmail\n\n");
        string line = new string('x', 77) + "\n";
        for (int n = 0; n < size; n += line.Length)
            text.Append(line);
        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
