using System.Collections.Concurrent;
using System.Text;
using FastSpool.Server.Tests.Support;
using FastSpool.Users;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace FastSpool.Server.Tests;

/// <summary>DESIGN invariants 1–3 under SIGKILL: the server runs as a child process under load and is killed at
/// random moments, round after round on the same data directory. Every message that got a 250 must end up in its
/// mailbox exactly once, no message may appear twice, and the mailboxes must parse cleanly.</summary>
public sealed class CrashRecoveryTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "fastspool-crash-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task KilledServerLosesNothingAcknowledgedAndDeliversNothingTwice()
    {
        Directory.CreateDirectory(_data);
        var users = new UserStore(_data);
        users.Add("alice", null);
        users.Add("bob", null);
        var acknowledged = new ConcurrentDictionary<string, string>();
        var attempted = new ConcurrentDictionary<string, string>();
        var random = new Random(20261124);
        const int rounds = 6;
        for (int round = 0; round < rounds; round++)
        {
            int port = TestServer.FreePort();
            using ServerProcess server = await ServerProcess.StartAsync(_data, port, "--Queue:SegmentSizeBits=22", "--Queue:PageSizeBits=20", "--Queue:MemorySizeBits=23", "--Delivery:RetryDelay=00:00:00.200", "--Delivery:MaxRetryDelay=00:00:01");
            using var stop = new CancellationTokenSource();
            Task[] senders = Enumerable.Range(0, 4)
                .Select(s => Task.Run(() => SendUntilStoppedAsync(port, round, s, attempted, acknowledged, stop.Token)))
                .ToArray();
            // Let some mail through, then pull the plug at a random moment of the load.
            int before = acknowledged.Count;
            await Wait.UntilAsync(() => acknowledged.Count >= before + 5, TimeSpan.FromSeconds(20), $"five messages acknowledged in round {round}",
                () => $"{acknowledged.Count - before} acknowledged\n{server.Output}");
            await Task.Delay(random.Next(50, 800)); // the random moment of the kill: the point of the test, not a wait for work
            server.Kill();
            await stop.CancelAsync();
            await Task.WhenAll(senders);
        }
        Assert.True(acknowledged.Count > 50, $"only {acknowledged.Count} messages were acknowledged");

        // The last server logs its statistics every 200 ms: "queued=0" there is the real binary saying that its queue
        // is idle. It gets no more mail, and everything recovered is registered before its first statistics line, so
        // from then on nothing more can be delivered: a duplicate delivered late is in the mailboxes when they are read.
        int finalPort = TestServer.FreePort();
        using ServerProcess final = await ServerProcess.StartAsync(_data, finalPort, "--Queue:MemorySizeBits=23", "--Delivery:RetryDelay=00:00:00.200", "--Delivery:MaxRetryDelay=00:00:01",
            "--StatisticsInterval=00:00:00.200");
        string alice = Path.Combine(_data, "mail", "alice");
        string bob = Path.Combine(_data, "mail", "bob");
        var reading = new DeliveredSubjects(alice, bob);
        await Wait.UntilAsync(() => acknowledged.Keys.All(reading.Read().Contains), TimeSpan.FromSeconds(60), "every acknowledged message in its mailbox",
            () => $"acknowledged but not delivered: {string.Join(", ", acknowledged.Keys.Where(k => !reading.Read().Contains(k)).Take(10))}\n"
                + $"dotlocks: {string.Join(", ", Directory.GetFiles(Path.Combine(_data, "mail"), "*.lock").Select(f => $"{Path.GetFileName(f)}=[{File.ReadAllText(f).Trim()}]"))}\n{final.Output}");
        await Wait.UntilAsync(() => final.Output.Contains(", queued=0, ", StringComparison.Ordinal), because: "the server to report an idle queue (queued=0)",
            observed: () => final.Output);
        await final.StopAsync();
        string last = final.Output.Split('\n').Last(l => l.Contains("statistics:", StringComparison.Ordinal));
        Assert.Contains(", queued=0, ", last);

        var delivered = new HashSet<string>();
        foreach (string path in new[] { alice, bob })
        {
            var messages = Mailbox.Read(path);
            Assert.Equal(Mailbox.CountSeparators(path), messages.Count);
            var seen = new HashSet<string>();
            foreach (var (marker, message) in messages)
            {
                Assert.StartsWith("From sender@example.org  ", marker);
                Assert.True(seen.Add(message.Subject ?? ""), $"{message.Subject} delivered twice into {path}");
                Assert.True(delivered.Add(message.Subject ?? ""), $"{message.Subject} delivered into both mailboxes");
                Assert.True(attempted.ContainsKey(message.Subject ?? ""), $"{message.Subject} in {path} was never sent");
                string expected = Body(message.Subject ?? "");
                string actual = (message.TextBody ?? "").Replace("\r\n", "\n");
                Assert.True(actual == expected || actual == expected + "\n", $"{message.Subject}: body damaged");
                if (acknowledged.TryGetValue(message.Subject ?? "", out string? owner))
                    Assert.Equal(Path.GetFileName(path), owner);
            }
        }
        // Every acknowledged message is there, exactly once (the sets above have no duplicates).
        Assert.All(acknowledged.Keys, k => Assert.Contains(k, delivered));
    }

    /// <summary>The subjects in the two mailboxes, parsed again only when a file's length changed: a probe every few
    /// milliseconds must not parse tens of megabytes each time, stealing the CPU from the server it waits for.</summary>
    private sealed class DeliveredSubjects(string alice, string bob)
    {
        private (long Alice, long Bob) _lengths = (-1, -1);
        private HashSet<string> _subjects = [];

        public HashSet<string> Read()
        {
            (long, long) lengths = (Length(alice), Length(bob));
            if (lengths == _lengths)
                return _subjects;
            try
            {
                _subjects = Mailbox.Read(alice).Concat(Mailbox.Read(bob)).Select(m => m.Message.Subject ?? "").ToHashSet();
                _lengths = lengths;
            }
            catch (FormatException)
            {
                // Caught in the middle of an append: keep the last reading, and read again next time.
            }
            return _subjects;
        }

        private static long Length(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;
    }

    private static string Body(string subject)
    {
        // Deterministic content from the subject, large enough for some messages to span several queue chunks.
        int size = (subject.GetHashCode(StringComparison.Ordinal) & 0x7fffffff) % 7 == 0 ? 600_000 : 2_000;
        var text = new StringBuilder(size + 100);
        int line = 0;
        while (text.Length < size)
            text.Append(subject).Append(" line ").Append(line++).Append(" the quick brown fox jumps over the lazy dog\n");
        return text.ToString();
    }

    private static async Task SendUntilStoppedAsync(int port, int round, int sender, ConcurrentDictionary<string, string> attempted,
        ConcurrentDictionary<string, string> acknowledged, CancellationToken stop)
    {
        int i = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var client = new SmtpClient();
                await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None, stop);
                while (!stop.IsCancellationRequested)
                {
                    string subject = $"r{round}-s{sender}-m{i++}";
                    string to = i % 3 == 0 ? "bob" : "alice";
                    var message = new MimeMessage();
                    message.From.Add(MailboxAddress.Parse("sender@example.org"));
                    message.To.Add(MailboxAddress.Parse($"{to}@localhost"));
                    message.Subject = subject;
                    message.Body = new TextPart("plain") { Text = Body(subject) };
                    attempted[subject] = to;
                    await client.SendAsync(message, stop);
                    acknowledged[subject] = to;
                }
            }
            catch (Exception e) when (e is IOException or SmtpProtocolException or SmtpCommandException or OperationCanceledException or System.Net.Sockets.SocketException or MailKit.ServiceNotConnectedException)
            {
                // The server was killed: the last message in flight is not acknowledged.
            }
        }
    }
}
