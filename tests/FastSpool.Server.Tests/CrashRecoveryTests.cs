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
        var random = new Random(20261124);
        const int rounds = 6;
        for (int round = 0; round < rounds; round++)
        {
            int port = TestServer.FreePort();
            using ServerProcess server = await ServerProcess.StartAsync(_data, port, "--Queue:SegmentSizeBits=22", "--Queue:PageSizeBits=20", "--Queue:MemorySizeBits=23", "--Delivery:RetryDelay=00:00:00.200", "--Delivery:MaxRetryDelay=00:00:01");
            using var stop = new CancellationTokenSource();
            Task[] senders = Enumerable.Range(0, 4)
                .Select(s => Task.Run(() => SendUntilStoppedAsync(port, round, s, acknowledged, stop.Token)))
                .ToArray();
            // Let some mail through, then pull the plug at a random moment of the load.
            int before = acknowledged.Count;
            DateTime deadline = DateTime.UtcNow.AddSeconds(20);
            while (acknowledged.Count < before + 5 && DateTime.UtcNow < deadline)
                await Task.Delay(10);
            await Task.Delay(random.Next(50, 800));
            server.Kill();
            await stop.CancelAsync();
            await Task.WhenAll(senders);
        }
        Assert.True(acknowledged.Count > 50, $"only {acknowledged.Count} messages were acknowledged");

        int finalPort = TestServer.FreePort();
        using ServerProcess final = await ServerProcess.StartAsync(_data, finalPort, "--Queue:MemorySizeBits=23", "--Delivery:RetryDelay=00:00:00.200", "--Delivery:MaxRetryDelay=00:00:01");
        string alice = Path.Combine(_data, "mail", "alice");
        string bob = Path.Combine(_data, "mail", "bob");
        DateTime until = DateTime.UtcNow.AddSeconds(60);
        HashSet<string> delivered;
        int lastCount = -1;
        DateTime stableSince = DateTime.UtcNow;
        while (true)
        {
            int count = Mailbox.CountSeparators(alice) + Mailbox.CountSeparators(bob);
            if (count != lastCount)
            {
                lastCount = count;
                stableSince = DateTime.UtcNow;
            }
            delivered = Subjects(alice).Concat(Subjects(bob)).ToHashSet();
            if (acknowledged.Keys.All(delivered.Contains) && DateTime.UtcNow - stableSince > TimeSpan.FromSeconds(1))
                break;
            Assert.True(DateTime.UtcNow < until, $"acknowledged but not delivered: {string.Join(", ", acknowledged.Keys.Where(k => !delivered.Contains(k)).Take(10))}\n"
                + $"dotlocks: {string.Join(", ", Directory.GetFiles(Path.Combine(_data, "mail"), "*.lock").Select(f => $"{Path.GetFileName(f)}=[{File.ReadAllText(f).Trim()}]"))}\n{final.Output}");
            await Task.Delay(50);
        }
        await final.StopAsync();

        foreach (string path in new[] { alice, bob })
        {
            var messages = Mailbox.Read(path);
            Assert.Equal(Mailbox.CountSeparators(path), messages.Count);
            var seen = new HashSet<string>();
            foreach (var (marker, message) in messages)
            {
                Assert.StartsWith("From sender@example.org  ", marker);
                Assert.True(seen.Add(message.Subject ?? ""), $"{message.Subject} delivered twice into {path}");
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

    private static IEnumerable<string> Subjects(string path)
    {
        try
        {
            return Mailbox.Read(path).Select(m => m.Message.Subject ?? "");
        }
        catch (FormatException)
        {
            return [];
        }
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

    private static async Task SendUntilStoppedAsync(int port, int round, int sender, ConcurrentDictionary<string, string> acknowledged, CancellationToken stop)
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
