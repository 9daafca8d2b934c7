using FastSpool.Logging;
using System.Text;
using FastSpool.Server.Logging;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Tests;

public sealed class MailLogTests
{
    [Fact]
    public void ALineHasTimeComponentLevelAndMessage()
    {
        string line = MailLogProvider.Format(new DateTime(2026, 11, 24, 17, 2, 50, 123, DateTimeKind.Utc), "smtpd", LogLevel.Information,
            "connect from [127.0.0.1]", null);
        Assert.Equal("2026-11-24T17:02:50.123Z smtpd info: connect from [127.0.0.1]\n", line);
    }

    [Fact]
    public void LineBreaksInAMessageNeverSplitTheLine()
    {
        string line = MailLogProvider.Format(DateTime.UnixEpoch, "qmgr", LogLevel.Warning, "a\nb", new IOException("disk\nfull"));
        Assert.Equal("1970-01-01T00:00:00.000Z qmgr warning: a b (IOException: disk full)\n", line);
    }

    [Fact]
    public void EveryLineIsWrittenInOrderAndNothingBelowTheLevel()
    {
        var output = new MemoryStream();
        using (var provider = new MailLogProvider(LogLevel.Information, output))
        using (var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(provider)))
        {
            ILogger log = factory.CreateLogger("FastSpool.smtpd");
            for (int i = 0; i < 1000; i++)
                log.LogInformation("line {Number}", i);
            log.LogDebug("not written");
        }
        string[] lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1000, lines.Length);
        for (int i = 0; i < lines.Length; i++)
            Assert.EndsWith($" smtpd info: line {i}", lines[i]);
    }

    private static string[] Lines(MemoryStream output) =>
        Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void InterpolatedLinesAreWrittenAsUtf8WithValuesFormattedInvariantly()
    {
        var output = new MemoryStream();
        using (var provider = new MailLogProvider(LogLevel.Information, output))
        using (var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(provider)))
        {
            ILogger log = factory.CreateLogger("FastSpool.qmgr");
            var id = new FastSpool.Queue.QueueId(0x6B05DD8000001);
            ReadOnlySpan<byte> helo = "client.example\r\nsmuggled"u8;
            log.Line(LogLevel.Information, $"{id}: to=<{"ä@example.test"}>, delay={1.23456:0.##}, size={1234567L}, helo=<{helo}>");
            log.Line(LogLevel.Debug, $"{id}: not written");
            log.Line(LogLevel.Warning, $"{new string('x', 10_000)}");
        }
        string[] lines = Lines(output);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z qmgr info: 6B05DD8000001: to=<ä@example.test>, delay=1.23, size=1234567, helo=<client.example  smuggled>$", lines[0]);
        Assert.EndsWith(" qmgr warning: " + new string('x', Utf8LogLine.MaxLength - 3) + "...", lines[1]);
    }

    [Fact]
    public void AnInterpolatedLineAllocatesNothing()
    {
        // A buffer that holds every line of the loop: growing it (once, kept for good) is not per-line work.
        using var provider = new MailLogProvider(LogLevel.Information, new MailLogWriter(Stream.Null, initialBuffer: 1 << 20));
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(provider));
        ILogger log = factory.CreateLogger("FastSpool.smtpd");
        var id = new FastSpool.Queue.QueueId(0x6B05DD8000001);
        byte[] sender = "bob@example.org"u8.ToArray();
        for (int i = 0; i < 100; i++) // warm up: JIT, the thread's line buffer
            log.Line(LogLevel.Information, $"{id}: from=<{sender.AsSpan()}>, size={i}, nrcpt={2} ({"DATA"})");
        // The best of three rounds: a per-line allocation shows in every round, while a one-off of the runtime's
        // (a method recompiled at a higher tier under load) does not repeat.
        long fewest = long.MaxValue;
        for (int round = 0; round < 3 && fewest != 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
                log.Line(LogLevel.Information, $"{id}: from=<{sender.AsSpan()}>, size={i}, nrcpt={2} ({"DATA"})");
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, fewest);
    }

    [Fact]
    public async Task LinesAreDroppedAndCountedWhileTheOutputIsBlockedNeverQueuedWithoutBound()
    {
        // A real pipe that nobody reads: once the kernel's pipe buffer is full, the writer blocks in write(2).
        using var server = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
        using var client = new System.IO.Pipes.AnonymousPipeClientStream(System.IO.Pipes.PipeDirection.In, server.ClientSafePipeHandle);
        using var writer = new MailLogWriter(server, maxPending: 64 * 1024);
        byte[] line = Encoding.ASCII.GetBytes(new string('x', 1023) + "\n");
        for (int i = 0; i < 2000; i++) // 2 MB: far more than the pipe buffer plus what may wait
            writer.Append(line);
        Assert.InRange(writer.Dropped, 1, 2000);

        // Once the output moves again, the count of dropped lines is written after what was kept. Each probe reads
        // what the pipe has (a read that blocks past the deadline fails the wait).
        var read = new MemoryStream();
        var buffer = new byte[64 * 1024];
        string text = "";
        long Reported() => System.Text.RegularExpressions.Regex.Matches(text, @"mail log: (\d+) lines were dropped").Sum(m => long.Parse(m.Groups[1].Value));
        await Wait.UntilAsync(async () =>
        {
            int n = await client.ReadAsync(buffer);
            read.Write(buffer, 0, n);
            text = Encoding.ASCII.GetString(read.ToArray());
            return text.Contains("lines were dropped", StringComparison.Ordinal) && Reported() >= writer.Dropped;
        }, TimeSpan.FromSeconds(10), "every dropped line to be counted in the log",
            () => text.Contains("lines were dropped", StringComparison.Ordinal) ? $"{Reported()} of {writer.Dropped} dropped lines counted" : "the dropped lines were never reported");
        Assert.All(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('x')), l => Assert.Equal(1023, l.Length));
    }
}
