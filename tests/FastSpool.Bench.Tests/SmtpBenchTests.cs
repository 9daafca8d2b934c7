using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FastSpool.Bench.Cli;
using FastSpool.Bench.Messages;

namespace FastSpool.Bench.Tests;

/// <summary>Whole runs of the generator against <see cref="FakeSmtpServer"/> on loopback.</summary>
public sealed class SmtpBenchTests : IDisposable
{
    private const string Mix = "0:1,81:1,1000:1,40KiB:1";
    private static readonly SizeMix MixSizes = new([0, 81, 1000, 40960], [1, 1, 1, 1]);

    private readonly string _directory = Directory.CreateTempSubdirectory("fastspool-bench-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private sealed record Run(int ExitCode, string Output, string Error, JsonElement Json);

    private async Task<Run> RunAsync(params string[] args)
    {
        string json = Path.Combine(_directory, $"report-{Guid.NewGuid():N}.json");
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await BenchCommand.RunAsync([.. args, "--json", json], output, error, overwriteProgress: false);
        Assert.True(File.Exists(json), $"no JSON; exit {code}: {error}");
        using JsonDocument document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        return new Run(code, output.ToString(), error.ToString(), document.RootElement.Clone());
    }

    private static string[] Smtp(FakeSmtpServer server, int connections, int messages, params string[] more) =>
    [
        "smtp", "--server", server.Address, "--connections", connections.ToString(), "--messages", messages.ToString(),
        "--size-mix", Mix, "--to", "alice@localhost", .. more, .. more.Contains("--timeout") ? [] : new[] { "--timeout", "10s" },
    ];

    /// <summary>Every message 1..count arrived once, byte for byte as intended after unstuffing.</summary>
    private static void AssertExactMessages(FakeSmtpServer server, int count)
    {
        var seen = new HashSet<long>();
        foreach (byte[] bytes in server.Messages)
        {
            string message = Encoding.ASCII.GetString(bytes);
            Match header = Regex.Match(message,
                "^From: <bench@example\\.org>\r\nTo: <alice@localhost>\r\nSubject: fastspool-bench message ([0-9]{10})\r\n" +
                "Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\r\n" +
                "Message-ID: <([0-9]{10})\\.[0-9a-f]+\\.[0-9]+@fastspool-bench\\.invalid>\r\n\r\n");
            Assert.True(header.Success, message[..Math.Min(300, message.Length)]);
            long number = long.Parse(header.Groups[1].Value);
            Assert.Equal(header.Groups[1].Value, header.Groups[2].Value);
            Assert.True(seen.Add(number), $"message {number} twice");
            int size = MixSizes.SizeAt(MixSizes.IndexFor(number));
            Assert.Equal(header.Length + size, bytes.Length);
            Assert.Equal(MessageFactory.BuildBody(size), bytes[header.Length..]);
        }
        Assert.Equal(count, seen.Count);
    }

    private static void AssertAccepted(Run run, int messages)
    {
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Equal(messages, run.Json.GetProperty("accepted").GetInt64());
        Assert.Empty(run.Json.GetProperty("errors").EnumerateObject());
        Assert.True(run.Json.GetProperty("accept_msgs_per_s").GetDouble() > 0);
        Assert.True(run.Json.GetProperty("latency_ms").GetProperty("p50").GetDouble() > 0);
    }

    [Fact]
    public async Task AConnectionPerMessageSendsEachMessageOnItsOwnSession()
    {
        await using var server = new FakeSmtpServer();
        Run run = await RunAsync(Smtp(server, 3, 12));
        AssertAccepted(run, 12);
        AssertExactMessages(server, 12);
        Assert.Equal(12, server.Connections);
        Assert.Equal(12, server.Quits);
        Assert.All(server.Greetings, g => Assert.Equal("EHLO", g));
        Assert.All(server.Transfers, t => Assert.Equal("DATA", t));
        Assert.Equal(0, server.EarlyInput);
        Assert.Equal("per-message", run.Json.GetProperty("connection").GetString());
    }

    [Fact]
    public async Task ReuseSendsTheNextMailOnTheSameConnectionWithoutRset()
    {
        await using var server = new FakeSmtpServer();
        Run run = await RunAsync(Smtp(server, 3, 30, "--reuse"));
        AssertAccepted(run, 30);
        AssertExactMessages(server, 30);
        Assert.Equal(3, server.Connections);
        Assert.Equal(3, server.Quits);
        Assert.Equal(0, server.Resets);
        Assert.Equal(0, server.EarlyInput);
    }

    [Fact]
    public async Task PipeliningSendsTheEnvelopeAsOneGroupAndTheTextOnlyAfter354()
    {
        // The server answers MAIL and RCPT only with DATA: a client waiting for each reply would time out.
        await using var server = new FakeSmtpServer { HoldEnvelopeReplies = true };
        Run run = await RunAsync(Smtp(server, 2, 16, "--pipelining", "--reuse"));
        AssertAccepted(run, 16);
        AssertExactMessages(server, 16);
        Assert.Equal(0, server.TextBeforeGoAhead);
        Assert.All(server.Transfers, t => Assert.Equal("DATA", t));
        Assert.DoesNotContain("warning", run.Output);
    }

    [Fact]
    public async Task BdatSendsEachMessageAsOneLastChunk()
    {
        await using var server = new FakeSmtpServer();
        Run run = await RunAsync(Smtp(server, 2, 12, "--bdat"));
        AssertAccepted(run, 12);
        AssertExactMessages(server, 12);
        Assert.Equal(12, server.Transfers.Count);
        Assert.All(server.Transfers, t => Assert.Matches("^BDAT [0-9]+ LAST$", t));
        Assert.Equal(0, server.EarlyInput);
    }

    [Fact]
    public async Task BdatWithPipeliningSendsEnvelopeAndChunkInOneGroup()
    {
        await using var server = new FakeSmtpServer { HoldEnvelopeReplies = true };
        Run run = await RunAsync(Smtp(server, 2, 12, "--bdat", "--pipelining", "--reuse"));
        AssertAccepted(run, 12);
        AssertExactMessages(server, 12);
        Assert.All(server.Transfers, t => Assert.Matches("^BDAT [0-9]+ LAST$", t));
    }

    [Fact]
    public async Task HeloModeGreetsWithHeloAndSendsData()
    {
        await using var server = new FakeSmtpServer();
        Run run = await RunAsync(Smtp(server, 2, 6, "--helo"));
        AssertAccepted(run, 6);
        AssertExactMessages(server, 6);
        Assert.Equal(6, server.Greetings.Count);
        Assert.All(server.Greetings, g => Assert.Equal("HELO", g));
        Assert.Equal(0, server.EarlyInput);
        Assert.Equal("HELO", run.Json.GetProperty("greeting").GetString());
    }

    [Fact]
    public async Task RefusedMessagesAreCountedByTheirReplyCodeAndTheRunGoesOn()
    {
        await using var server = new FakeSmtpServer { EndOfDataReply = n => n % 4 == 0 ? "451 4.3.0 Try again later" : null };
        Run run = await RunAsync(Smtp(server, 2, 20, "--reuse"));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(15, run.Json.GetProperty("accepted").GetInt64());
        JsonElement errors = run.Json.GetProperty("errors");
        Assert.Equal(5, errors.GetProperty("451").GetInt64());
        Assert.Single(errors.EnumerateObject());
        Assert.Equal(15, server.Messages.Count);
        Assert.Equal(5, server.Resets);
        Assert.Contains("451: 5", run.Output);
    }

    [Fact]
    public async Task AServerClosingTheConnectionIsCountedAndTheSessionReconnects()
    {
        await using var server = new FakeSmtpServer { CloseAtMail = n => n % 5 == 0 };
        Run run = await RunAsync(Smtp(server, 2, 20, "--reuse"));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(16, run.Json.GetProperty("accepted").GetInt64());
        Assert.Equal(4, run.Json.GetProperty("errors").GetProperty("421").GetInt64());
        // Two sessions, reconnecting after the 421s to MAILs 5, 10 and 15; the one to MAIL 20 ends the run.
        Assert.Equal(2 + 3, server.Connections);
        AssertExactMessagesAmong(server, 16);
    }

    private static void AssertExactMessagesAmong(FakeSmtpServer server, int count)
    {
        Assert.Equal(count, server.Messages.Count);
        foreach (byte[] bytes in server.Messages)
        {
            int split = Encoding.ASCII.GetString(bytes).IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
            Assert.Equal(MessageFactory.BuildBody(bytes.Length - split), bytes[split..]);
        }
    }

    [Fact]
    public async Task PipeliningNotOfferedFallsBackToOneCommandAtATimeWithAWarning()
    {
        await using var server = new FakeSmtpServer { Extensions = false };
        Run run = await RunAsync(Smtp(server, 1, 4, "--pipelining", "--bdat", "--reuse"));
        AssertAccepted(run, 4);
        Assert.All(server.Transfers, t => Assert.Equal("DATA", t));
        Assert.Equal(0, server.EarlyInput);
        Assert.Contains("did not offer PIPELINING on 1 connections", run.Output);
        Assert.Contains("did not offer CHUNKING on 1 connections", run.Output);
    }

    [Fact]
    public async Task UntilDeliveredWaitsForTheMboxAndReportsEndToEndRate()
    {
        string mbox = Path.Combine(_directory, "alice");
        File.WriteAllText(mbox, "From earlier@example.org  Tue Nov 24 17:00:00 2026\nSubject: before\n\nold\n\n");
        await using var server = new FakeSmtpServer { Mbox = mbox };
        Run run = await RunAsync(Smtp(server, 2, 10, "--reuse", "--until-delivered", mbox));
        AssertAccepted(run, 10);
        Assert.Equal(10, run.Json.GetProperty("delivered").GetInt64());
        Assert.True(run.Json.GetProperty("e2e_msgs_per_s").GetDouble() > 0);
        Assert.False(run.Json.GetProperty("delivery_timeout").GetBoolean());
        Assert.Contains("end to end", run.Output);
    }

    [Fact]
    public async Task UntilDeliveredReportsTimeoutWhenTheMboxDoesNotGrow()
    {
        string mbox = Path.Combine(_directory, "nobody");
        await using var server = new FakeSmtpServer();
        Run run = await RunAsync(Smtp(server, 1, 2, "--until-delivered", mbox, "--timeout", "1s"));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(2, run.Json.GetProperty("accepted").GetInt64());
        Assert.True(run.Json.GetProperty("delivery_timeout").GetBoolean());
        Assert.Equal(JsonValueKind.Null, run.Json.GetProperty("e2e_msgs_per_s").ValueKind);
        Assert.Contains("TIMEOUT", run.Output);
    }

    [Fact]
    public async Task NoServerListeningCountsConnectErrors()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Run run = await RunAsync("smtp", "--server", $"127.0.0.1:{port}", "--messages", "5", "--connections", "2", "--to", "a@b", "--size", "1KiB");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(0, run.Json.GetProperty("accepted").GetInt64());
        Assert.Equal(5, run.Json.GetProperty("errors").GetProperty("connect").GetInt64());
    }

    [Fact]
    public async Task ASilentServerIsATimeoutNotAHang()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(); // accepts into the backlog, never says a word
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        Run run = await RunAsync("smtp", "--server", $"127.0.0.1:{port}", "--messages", "2", "--connections", "2", "--to", "a@b", "--timeout", "1s");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(2, run.Json.GetProperty("errors").GetProperty("timeout").GetInt64());
    }

    [Fact]
    public async Task TheJsonReportHasTheDocumentedKeys()
    {
        await using var server = new FakeSmtpServer();
        Run run = await RunAsync(Smtp(server, 1, 3, "--server-pid", Environment.ProcessId.ToString()));
        AssertAccepted(run, 3);
        foreach (string key in new[]
        {
            "mode", "connections", "messages", "size", "accepted", "accept_msgs_per_s", "accept_mb_per_s", "latency_ms",
            "errors", "e2e_msgs_per_s", "wall_s", "server_cpu_s", "server_peak_rss_kb",
        })
        {
            Assert.True(run.Json.TryGetProperty(key, out _), key);
        }
        Assert.Equal("smtp", run.Json.GetProperty("mode").GetString());
        Assert.Equal(Mix.Replace("40KiB", "40960"), run.Json.GetProperty("size").GetString());
        foreach (string key in new[] { "p50", "p90", "p99", "p999", "max" })
            Assert.True(run.Json.GetProperty("latency_ms").TryGetProperty(key, out _), key);
        Assert.True(run.Json.GetProperty("server_peak_rss_kb").GetInt64() > 0);
        Assert.True(run.Json.GetProperty("server_cpu_s").GetDouble() >= 0);
        Assert.Equal(JsonValueKind.Null, run.Json.GetProperty("e2e_msgs_per_s").ValueKind);
        Assert.Contains("latency ms", run.Output);
    }

    [Fact]
    public async Task IdleOpensEverySessionHoldsItAndQuits()
    {
        await using var server = new FakeSmtpServer();
        Run run = await RunAsync("idle", "--server", server.Address, "--connections", "25", "--hold", "200ms", "--concurrency", "5");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Equal(25, run.Json.GetProperty("opened").GetInt32());
        Assert.Equal(25, run.Json.GetProperty("open_after_hold").GetInt32());
        Assert.Equal(25, run.Json.GetProperty("quit_ok").GetInt32());
        Assert.Equal(25, server.Connections);
        Assert.Equal(25, server.Greetings.Count);
    }
}
