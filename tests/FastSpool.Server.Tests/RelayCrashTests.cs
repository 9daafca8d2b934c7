using System.Collections.Concurrent;
using System.Diagnostics;
using FastSpool.Server.Tests.Support;
using FastSpool.Tests;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Xunit.Abstractions;

namespace FastSpool.Server.Tests;

/// <summary>The relay path under SIGKILL: the server relays to a smarthost while clients send to it, and is killed
/// at random moments, round after round on the same data directory. Every message that got a 250 must reach the
/// smarthost at least once. A message may reach it twice only if the kill fell between the smarthost's 250 and the
/// commit of that delivery in our queue (milliseconds): so no message the smarthost took more than two seconds before
/// the next kill may arrive again. The load is bounded (150 messages per sender and round) so that the relay keeps
/// up. The duplicate rate is written to the test output.</summary>
public sealed class RelayCrashTests(ITestOutputHelper output) : IAsyncDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "fastspool-relaycrash-" + Guid.NewGuid().ToString("N"));
    private readonly FaultSmarthost _smarthost = new();

    public async ValueTask DisposeAsync()
    {
        await _smarthost.DisposeAsync();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string[] ServerOptions =>
    [
        $"--Relay:Smarthost=[127.0.0.1]:{_smarthost.Port}", "--Relay:Tls=none", "--Relay:MaxConnections=4",
        "--Queue:MemorySizeBits=23", "--Queue:SegmentSizeBits=22", "--Queue:PageSizeBits=20",
        "--Delivery:RetryDelay=00:00:00.200", "--Delivery:MaxRetryDelay=00:00:01",
    ];

    [Fact]
    public async Task KilledWhileRelayingLosesNothingAcknowledgedAndRepeatsOnlyWhatWasInFlight()
    {
        Directory.CreateDirectory(_data);
        var acknowledged = new ConcurrentDictionary<string, bool>();
        var random = new Random(20261130);
        var kills = new List<long>();
        const int rounds = 5;
        for (int round = 0; round < rounds; round++)
        {
            int port = TestServer.FreePort();
            using ServerProcess server = await ServerProcess.StartAsync(_data, port, ServerOptions);
            using var stop = new CancellationTokenSource();
            Task[] senders = Enumerable.Range(0, 4).Select(s => Task.Run(() => SendUntilStoppedAsync(port, round, s, acknowledged, stop.Token))).ToArray();
            int relayedBefore = _smarthost.Messages.Count;
            await Wait.UntilAsync(() => _smarthost.Messages.Count >= relayedBefore + 20, TimeSpan.FromSeconds(30),
                $"twenty messages relayed in round {round}", () => server.Output);
            await Task.Delay(random.Next(0, 800)); // the random moment of the kill: the point of the test, not a wait for work
            server.Kill();
            kills.Add(Stopwatch.GetTimestamp());
            await stop.CancelAsync();
            await Task.WhenAll(senders);
        }
        Assert.True(acknowledged.Count > 200, $"only {acknowledged.Count} messages were acknowledged");

        int finalPort = TestServer.FreePort();
        using ServerProcess final = await ServerProcess.StartAsync(_data, finalPort, [.. ServerOptions, "--StatisticsInterval=00:00:00.200"]);
        await Wait.UntilAsync(() => Subjects() is var relayed && acknowledged.Keys.All(relayed.Contains), TimeSpan.FromSeconds(60), "every acknowledged message at the smarthost",
            () => $"missing: {string.Join(", ", acknowledged.Keys.Except(Subjects()).Take(10))}\n{final.Output}");
        int outputBefore = final.Output.Length;
        await Wait.UntilAsync(() => final.Output[outputBefore..].Contains(", queued=0, ", StringComparison.Ordinal), because: "the server to report an idle queue (queued=0)",
            observed: () => final.Output);
        await final.StopAsync();

        var arrivals = _smarthost.Arrivals.ToArray().Select(a => (a.Timestamp, Subject: Subject(a.Text))).ToList();
        var counts = arrivals.GroupBy(a => a.Subject).ToDictionary(g => g.Key, g => g.Count());
        string[] repeated = [.. counts.Where(c => c.Value > 1).Select(c => c.Key)];
        // A message is repeated only if its first copy arrived within two seconds before a kill.
        foreach (string subject in repeated)
        {
            long first = arrivals.First(a => a.Subject == subject).Timestamp;
            long nextKill = kills.FirstOrDefault(k => k > first, long.MaxValue);
            Assert.True(Stopwatch.GetElapsedTime(first, nextKill) < TimeSpan.FromSeconds(2),
                $"{subject} reached the smarthost {Stopwatch.GetElapsedTime(first, nextKill).TotalMilliseconds:0} ms before the next kill, and again after it");
        }
        Assert.All(arrivals, a => Assert.True(acknowledged.ContainsKey(a.Subject) || a.Subject.StartsWith('r'), $"an unknown message '{a.Subject}' at the smarthost"));
        output.WriteLine($"relay crash: {rounds} kills, {acknowledged.Count} acknowledged, {counts.Count} distinct relayed, "
            + $"{arrivals.Count - counts.Count} duplicate deliveries ({repeated.Length} messages, "
            + $"{100.0 * repeated.Length / counts.Count:0.###}% of those relayed; {(double)repeated.Length / rounds:0.##} per kill)");
    }

    /// <summary>The subjects of what the smarthost accepted, in order of arrival.</summary>
    private HashSet<string> Subjects() => [.. _smarthost.Messages.ToArray().Select(m => Subject(m.Text))];

    private static string Subject(byte[] text) => MimeMessage.Load(new MemoryStream(text)).Subject ?? "";

    private const int MessagesPerSender = 150;

    private static async Task SendUntilStoppedAsync(int port, int round, int sender, ConcurrentDictionary<string, bool> acknowledged, CancellationToken stop)
    {
        int i = 0;
        while (!stop.IsCancellationRequested && i < MessagesPerSender)
        {
            try
            {
                using var client = new SmtpClient();
                await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None, stop);
                while (!stop.IsCancellationRequested && i < MessagesPerSender)
                {
                    string subject = $"r{round}-s{sender}-m{i++}";
                    var message = new MimeMessage();
                    message.From.Add(MailboxAddress.Parse("sender@example.org"));
                    message.To.Add(MailboxAddress.Parse($"friend{i % 3}@elsewhere.example"));
                    message.Subject = subject;
                    message.Body = new TextPart("plain") { Text = $"{subject}\nthe quick brown fox jumps over the lazy dog\n" };
                    await client.SendAsync(message, stop);
                    acknowledged[subject] = true;
                }
            }
            catch (Exception e) when (e is IOException or SmtpProtocolException or SmtpCommandException or OperationCanceledException or System.Net.Sockets.SocketException or MailKit.ServiceNotConnectedException)
            {
                // The server was killed: the message in flight is not acknowledged.
            }
        }
    }
}
