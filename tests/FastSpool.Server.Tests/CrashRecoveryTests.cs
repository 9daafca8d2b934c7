using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using FastSpool.Server.Tests.Support;
using FastSpool.Users;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace FastSpool.Server.Tests;

/// <summary>DESIGN invariants 1–3 under SIGKILL: the server runs as a child process under load and is killed at
/// random moments, round after round on the same data directory. Every message that got a 250 must end up in its
/// mailbox exactly once, no message may appear twice, and the mailboxes must parse cleanly. Some mail bounces
/// (carol's mailbox is a symbolic link): each such message gives its sender, dave, exactly one report, kills
/// notwithstanding. Some mail waits (erin's mailbox is locked) and some of it is put on hold through the control
/// socket while the load runs: a hold that was acknowledged outlives every kill, and held mail is delivered only
/// once released.</summary>
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
        foreach (string user in (string[])["alice", "bob", "carol", "dave", "erin"])
            users.Add(user, null);
        string mail = Path.Combine(_data, "mail");
        Directory.CreateDirectory(mail);
        string carolTarget = Path.Combine(_data, "carol-target");
        File.WriteAllText(carolTarget, "");
        File.CreateSymbolicLink(Path.Combine(mail, "carol"), carolTarget);
        string erinLock = Path.Combine(mail, "erin.lock");
        File.WriteAllText(erinLock, Environment.ProcessId + "\n");

        var load = new Load();
        var held = new HashSet<string>();
        var maybeHeld = new HashSet<string>();
        var random = new Random(20261124);
        const int rounds = 6;
        for (int round = 0; round < rounds; round++)
        {
            int port = TestServer.FreePort();
            using ServerProcess server = await ServerProcess.StartAsync(_data, port, [.. ServerOptions, "--Queue:SegmentSizeBits=22", "--Queue:PageSizeBits=20"]);
            using var stop = new CancellationTokenSource();
            Task[] senders = Enumerable.Range(0, 4)
                .Select(s => Task.Run(() => SendUntilStoppedAsync(port, round, s, load, stop.Token)))
                .ToArray();
            // Let some mail through, erin's included; hold one of erin's messages, then pull the plug at a random
            // moment of the load and of a second hold.
            int before = load.Acknowledged.Count;
            await Wait.UntilAsync(() => load.Acknowledged.Count >= before + 5 && NotHeld(load, held, maybeHeld).Any(), TimeSpan.FromSeconds(20),
                $"five messages, one to erin, acknowledged in round {round}", () => $"{load.Acknowledged.Count - before} acknowledged\n{server.Output}");
            string[] toHold = NotHeld(load, held, maybeHeld).OrderBy(_ => random.Next()).Take(3).ToArray();
            CliResult first = await Task.Run(() => Cli(["hold", toHold[0]]));
            Assert.True(first.Code == 0, first.ToString());
            Sort(first, toHold[..1], held, maybeHeld);
            Task<CliResult>? hold = toHold.Length > 1 ? Task.Run(() => Cli(["hold", .. toHold[1..]])) : null;
            await Task.Delay(random.Next(50, 800)); // the random moment of the kill: the point of the test, not a wait for work
            server.Kill();
            await stop.CancelAsync();
            await Task.WhenAll(senders);
            if (hold is not null)
                Sort(await hold, toHold[1..], held, maybeHeld);
        }
        Assert.True(load.Acknowledged.Count > 50, $"only {load.Acknowledged.Count} messages were acknowledged");
        Assert.NotEmpty(load.IdsTo("carol"));
        var acknowledged = load.Acknowledged;
        var attempted = load.Attempted;

        // The last server gets no more mail, and everything recovered is registered before it says it has started.
        // Erin's mailbox is free from now on: what waited for it is delivered, but for what is held.
        File.Delete(erinLock);
        int finalPort = TestServer.FreePort();
        using ServerProcess final = await ServerProcess.StartAsync(_data, finalPort, [.. ServerOptions, "--StatisticsInterval=00:00:00.200"]);
        string alice = Path.Combine(mail, "alice");
        string bob = Path.Combine(mail, "bob");
        string erin = Path.Combine(mail, "erin");
        var reading = new DeliveredSubjects(alice, bob, erin);
        var unheld = acknowledged.Where(a => a.Value != "carol" && !(load.Ids.TryGetValue(a.Key, out string? id) && (held.Contains(id) || maybeHeld.Contains(id))))
            .Select(a => a.Key).ToList();
        await Wait.UntilAsync(() => unheld.All(reading.Read().Contains), TimeSpan.FromSeconds(60), "every acknowledged message that is not held in its mailbox",
            () => $"acknowledged but not delivered: {string.Join(", ", unheld.Where(k => !reading.Read().Contains(k)).Take(10))}\n"
                + $"dotlocks: {string.Join(", ", Directory.GetFiles(mail, "*.lock").Select(f => $"{Path.GetFileName(f)}=[{File.ReadAllText(f).Trim()}]"))}\n{final.Output}");

        // Idle but for what is held: every bounce has been reported by now, and nothing held has moved.
        using HttpClient admin = AdminHost.UnixHttpClient(Path.Combine(_data, "control.sock"));
        await Wait.UntilAsync(async () => await CountersAsync(admin) is var (messages, inHold, active) && messages == inHold && active == 0,
            because: "a queue idle but for held messages", observed: () => CountersAsync(admin).GetAwaiter().GetResult().ToString() + "\n" + final.Output);
        string[] stillHeld = HeldIds();
        Assert.Superset(held, stillHeld.ToHashSet());
        Assert.Subset(held.Union(maybeHeld).ToHashSet(), stillHeld.ToHashSet());
        string mailq = Cli(["mailq"]).Out;
        Assert.All(held, id => Assert.Contains($"\n{id}! ", mailq));
        HashSet<string> heldSubjects = load.Ids.Where(i => stillHeld.Contains(i.Value)).Select(i => i.Key).ToHashSet();
        Assert.Equal(stillHeld.Length, heldSubjects.Count);
        Assert.Empty(reading.Read().Intersect(heldSubjects));
        // With retries every 200 ms to 1 s, a held message still scheduled would be delivered in this second.
        await Wait.ThroughoutAsync(() => !reading.Read().Overlaps(heldSubjects), TimeSpan.FromSeconds(1), "held mail not delivered");

        int beforeRelease = final.Output.Length;
        CliResult release = Cli(["release", .. stillHeld]);
        Assert.True(release.Code == 0, release.ToString());
        Assert.Equal(stillHeld.Select(id => $"{id}: released from hold").Order(), release.OutLines.Order());
        await Wait.UntilAsync(() => acknowledged.Keys.Where(k => acknowledged[k] != "carol").All(reading.Read().Contains), TimeSpan.FromSeconds(60),
            "every acknowledged message in its mailbox", () => final.Output);
        // The last server logs its statistics every 200 ms: "queued=0" there is the real binary saying that its queue
        // is idle. From then on nothing more can be delivered: a duplicate delivered late is in the mailboxes when they
        // are read.
        await Wait.UntilAsync(() => final.Output[beforeRelease..].Contains(", queued=0, ", StringComparison.Ordinal), because: "the server to report an idle queue (queued=0)",
            observed: () => final.Output);
        await final.StopAsync();
        string last = final.Output.Split('\n').Last(l => l.Contains("statistics:", StringComparison.Ordinal));
        Assert.Contains(", queued=0, ", last);

        AssertOneReportPerBounce(load, Path.Combine(mail, "dave"));
        Assert.Equal("", File.ReadAllText(carolTarget));

        var delivered = new HashSet<string>();
        foreach (string path in new[] { alice, bob, erin })
        {
            var messages = Mailbox.Read(path);
            Assert.Equal(Mailbox.CountSeparators(path), messages.Count);
            var seen = new HashSet<string>();
            foreach (var (marker, message) in messages)
            {
                Assert.StartsWith("From sender@example.org  ", marker);
                Assert.True(seen.Add(message.Subject ?? ""), $"{message.Subject} delivered twice into {path}");
                Assert.True(delivered.Add(message.Subject ?? ""), $"{message.Subject} delivered into two mailboxes");
                Assert.True(attempted.ContainsKey(message.Subject ?? ""), $"{message.Subject} in {path} was never sent");
                string expected = Body(message.Subject ?? "");
                string actual = (message.TextBody ?? "").Replace("\r\n", "\n");
                Assert.True(actual == expected || actual == expected + "\n", $"{message.Subject}: body damaged");
                if (acknowledged.TryGetValue(message.Subject ?? "", out string? owner))
                    Assert.Equal(Path.GetFileName(path), owner);
            }
        }
        // Every acknowledged message is there, exactly once (the sets above have no duplicates).
        Assert.All(acknowledged.Where(a => a.Value != "carol"), a => Assert.Contains(a.Key, delivered));
    }

    private static readonly string[] ServerOptions =
    [
        "--Queue:MemorySizeBits=23", "--Delivery:RetryDelay=00:00:00.200", "--Delivery:MaxRetryDelay=00:00:01", "--Delivery:LockTimeout=00:00:00.200",
    ];

    private CliResult Cli(string[] args) => CliRunner.Run([.. args, "--data", _data]);

    private static IEnumerable<string> NotHeld(Load load, HashSet<string> held, HashSet<string> maybeHeld) =>
        load.IdsTo("erin").Except(held).Except(maybeHeld);

    /// <summary>What a hold interrupted by a kill did: the ids it names as held are held for sure; those of a hold
    /// whose answer was lost may or may not be. An id the queue does not know would be a lost message.</summary>
    private static void Sort(CliResult hold, string[] ids, HashSet<string> held, HashSet<string> maybeHeld)
    {
        Assert.DoesNotContain("no such message", hold.Error);
        foreach (string id in ids)
        {
            if (hold.OutLines.Contains($"{id}: placed on hold"))
                held.Add(id);
            else
                maybeHeld.Add(id);
        }
        Assert.True(hold.Code == 0 || hold.Code == 69 || hold.Code == 75, hold.ToString());
    }

    /// <summary>The ids that <c>mailq --json</c> lists, each checked to be on hold.</summary>
    private string[] HeldIds()
    {
        CliResult mailq = Cli(["mailq", "--json"]);
        Assert.True(mailq.Code == 0, mailq.ToString());
        var ids = new List<string>();
        foreach (string line in mailq.OutLines)
        {
            JsonElement message = JsonDocument.Parse(line).RootElement;
            Assert.Equal("hold", message.GetProperty("queue_name").GetString());
            ids.Add(message.GetProperty("queue_id").GetString()!);
        }
        return [.. ids];
    }

    /// <summary>The queue's counters, asked on the control socket as any HTTP client would.</summary>
    private static async Task<(int Messages, int Held, int Active)> CountersAsync(HttpClient admin)
    {
        JsonElement counters = JsonDocument.Parse(await admin.GetStringAsync("queue/counters")).RootElement;
        return (counters.GetProperty("messages").GetInt32(), counters.GetProperty("heldMessages").GetInt32(), counters.GetProperty("activeMessages").GetInt32());
    }

    /// <summary>Dave's mailbox holds one failure report per bounced message, never two: one for each acknowledged
    /// message to carol, and any other for a message to carol that was queued but whose 250 was lost to a kill.</summary>
    private static void AssertOneReportPerBounce(Load load, string dave)
    {
        var messages = Mailbox.Read(dave);
        Assert.Equal(Mailbox.CountSeparators(dave), messages.Count);
        var reported = new Dictionary<string, string>();
        foreach (var (marker, message) in messages)
        {
            Assert.StartsWith("From MAILER-DAEMON ", marker);
            ReceivedDsn dsn = ReceivedDsn.Read(message);
            string subject = dsn.ReturnedHeaders()[HeaderId.Subject] ?? "";
            Assert.True(reported.TryAdd(dsn.OriginalId, subject), $"two reports for {dsn.OriginalId} ({subject})");
            Assert.True(load.Attempted.TryGetValue(subject, out string? to) && to == "carol", $"a report on '{subject}', which was not sent to carol");
            Assert.Equal("rfc822; carol@localhost", dsn.Recipient["Final-Recipient"]);
            Assert.Equal("failed", dsn.Recipient["Action"]);
            Assert.Equal("5.2.0", dsn.Recipient["Status"]);
        }
        Assert.Equal(reported.Count, reported.Values.Distinct().Count());
        foreach (string subject in load.Acknowledged.Where(a => a.Value == "carol").Select(a => a.Key))
        {
            string id = load.Ids[subject];
            Assert.True(reported.TryGetValue(id, out string? about) && about == subject, $"no report for {id} ({subject})");
        }
    }

    /// <summary>What the senders sent: every subject tried and to whom, those acknowledged, and their queue ids.</summary>
    private sealed class Load
    {
        public ConcurrentDictionary<string, string> Attempted { get; } = new();

        public ConcurrentDictionary<string, string> Acknowledged { get; } = new();

        public ConcurrentDictionary<string, string> Ids { get; } = new();

        public IEnumerable<string> IdsTo(string user) =>
            Acknowledged.Where(a => a.Value == user).Select(a => Ids[a.Key]).ToList();
    }

    /// <summary>The subjects in the mailboxes, parsed again only when a file's length changed: a probe every few
    /// milliseconds must not parse tens of megabytes each time, stealing the CPU from the server it waits for.</summary>
    private sealed class DeliveredSubjects(params string[] paths)
    {
        private string _lengths = "";
        private HashSet<string> _subjects = [];

        public HashSet<string> Read()
        {
            string lengths = string.Join(',', paths.Select(Length));
            if (lengths == _lengths)
                return _subjects;
            try
            {
                _subjects = paths.SelectMany(Mailbox.Read).Select(m => m.Message.Subject ?? "").ToHashSet();
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

    private static async Task SendUntilStoppedAsync(int port, int round, int sender, Load load, CancellationToken stop)
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
                    int n = i++;
                    string subject = $"r{round}-s{sender}-m{n}";
                    string to = (n % 8) switch { 1 => "carol", 2 => "erin", _ => n % 3 == 0 ? "bob" : "alice" };
                    var message = new MimeMessage();
                    // Reports on carol's mail go to dave, whose mailbox is read back.
                    message.From.Add(MailboxAddress.Parse(to == "carol" ? "dave@localhost" : "sender@example.org"));
                    message.To.Add(MailboxAddress.Parse($"{to}@localhost"));
                    message.Subject = subject;
                    message.Body = new TextPart("plain") { Text = Body(subject) };
                    load.Attempted[subject] = to;
                    string response = await client.SendAsync(message, stop);
                    load.Ids[subject] = response[^13..];
                    load.Acknowledged[subject] = to;
                }
            }
            catch (Exception e) when (e is IOException or SmtpProtocolException or SmtpCommandException or OperationCanceledException or System.Net.Sockets.SocketException or MailKit.ServiceNotConnectedException)
            {
                // The server was killed: the last message in flight is not acknowledged.
            }
        }
    }
}
