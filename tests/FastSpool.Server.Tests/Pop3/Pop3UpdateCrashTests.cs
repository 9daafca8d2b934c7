using System.Text;
using FastSpool.Server.Tests.Support;
using FastSpool.Users;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace FastSpool.Server.Tests.Pop3;

/// <summary>The POP3 update under SIGKILL: the server runs as a child process, a client deletes messages and QUITs
/// while mail is delivered into the held mailbox, and the server is killed at a random moment around the update,
/// round after round on the same data directory. After every kill the mailbox must parse cleanly, hold every message
/// that was not deleted, and show the round's deletions all made or none; mail acknowledged over SMTP ends up in the
/// mailbox exactly once. Bounded: eight rounds, about 30 s.</summary>
public sealed class Pop3UpdateCrashTests : IDisposable
{
    private const int Rounds = 8;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "fastspool-pop3crash-" + Guid.NewGuid().ToString("N"));

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

    private string MailboxPath => Path.Combine(_data, "mail", "alice");

    /// <summary>The subjects while a server may still be appending: null when the read caught an append half made
    /// (more separators than whole messages), to be read again.</summary>
    private List<string>? SubjectsIfWhole()
    {
        List<(string Marker, MimeKit.MimeMessage Message)> messages = Mailbox.Read(MailboxPath);
        return Mailbox.CountSeparators(MailboxPath) == messages.Count ? messages.Select(m => m.Message.Subject ?? "").ToList() : null;
    }

    private List<string> Subjects()
    {
        List<(string Marker, MimeKit.MimeMessage Message)> messages = Mailbox.Read(MailboxPath);
        Assert.Equal(Mailbox.CountSeparators(MailboxPath), messages.Count);
        return messages.Select(m => m.Message.Subject ?? "").ToList();
    }

    [Fact]
    public async Task AKillAtAnyMomentOfTheUpdateLosesNoUndeletedMessageAndLeavesTheMboxWhole()
    {
        Directory.CreateDirectory(Path.Combine(_data, "mail"));
        new UserStore(_data).Add("alice", PasswordHasher.Hash("alice-secret"));
        // A mailbox large enough (about 18 MB) that the copy and fsync of an update take a while for the kill to land in.
        var prefill = new StringBuilder();
        string filler = string.Concat(Enumerable.Repeat("0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n", 450));
        for (int i = 0; i < 600; i++)
            prefill.Append($"From sender@example.org  Mon Nov 30 10:00:00 2026\nReturn-Path: <sender@example.org>\nDelivered-To: alice@localhost\nSubject: pre-{i}\n\n.{i}\n{filler}\n");
        File.WriteAllText(MailboxPath, prefill.ToString());

        var random = new Random(20261130);
        var acknowledged = new HashSet<string>();
        var gone = new HashSet<string>(); // deleted by an update that was made
        int applied = 0, notApplied = 0;
        for (int round = 0; round < Rounds; round++)
        {
            List<string> before = Subjects();
            int smtpPort = TestServer.FreePort();
            int pop3Port = TestServer.FreePort();
            using ServerProcess server = await ServerProcess.StartAsync(_data, smtpPort, $"--Pop3:Listen:0=127.0.0.1:{pop3Port}", "--Delivery:LockTimeout=00:00:05");
            var deleted = new HashSet<string>();
            using (RawPop3 pop = await RawPop3.ConnectAsync(pop3Port))
            {
                await pop.LoginAsync();
                string stat = await pop.CommandAsync("STAT");
                int count = int.Parse(stat.Split(' ')[1]);
                // Recovery may have delivered mail of the round before since the mailbox was read: the session can see more.
                Assert.InRange(count, before.Count, before.Count + 1);
                for (int n = 1; n <= count; n++)
                {
                    if (random.Next(4) == 0)
                    {
                        Assert.Equal("+OK", await pop.CommandAsync($"TOP {n} 0"));
                        string header = Encoding.UTF8.GetString(await pop.ReadMultilineRawAsync());
                        string subject = header.Split("\r\n").Single(l => l.StartsWith("Subject: ", StringComparison.Ordinal))["Subject: ".Length..];
                        Assert.StartsWith("+OK", await pop.CommandAsync($"DELE {n}"));
                        deleted.Add(subject);
                    }
                }
                // Mail that arrives while the session holds the mailbox.
                string during = $"during-{round}";
                using (var smtp = new SmtpClient())
                {
                    await smtp.ConnectAsync("127.0.0.1", smtpPort, SecureSocketOptions.None);
                    await smtp.SendAsync(TestMessage.Create(during, "sent during round " + round + "\n", "alice@localhost", "sender@example.org"));
                    await smtp.DisconnectAsync(true);
                }
                acknowledged.Add(during);
                await pop.SendAsync("QUIT");
                // The random moment of the kill (the point of the test, not a wait for work): spun, because a timer's
                // granularity is as long as the update itself.
                var spin = System.Diagnostics.Stopwatch.StartNew();
                double at = random.NextDouble() * 40;
                while (spin.Elapsed.TotalMilliseconds < at)
                    Thread.SpinWait(100);
                server.Kill();
            }

            List<string> after = Subjects();
            Assert.Equal(after.Count, after.Distinct().Count());
            Assert.Empty(before.Except(deleted).Except(after)); // no undeleted message lost
            int stillThere = deleted.Count(after.Contains);
            Assert.True(stillThere == 0 || stillThere == deleted.Count, $"round {round}: {stillThere} of {deleted.Count} deletions left: an update half made");
            if (deleted.Count > 0 && stillThere == 0)
            {
                applied++;
                gone.UnionWith(deleted);
            }
            else if (deleted.Count > 0)
            {
                notApplied++;
            }
            Assert.All(after.Except(before), s => Assert.Contains(s, acknowledged));
        }

        // Every message acknowledged over SMTP is delivered, once, by a last server.
        int finalSmtp = TestServer.FreePort();
        using ServerProcess final = await ServerProcess.StartAsync(_data, finalSmtp, "--StatisticsInterval=00:00:00.200");
        HashSet<string> expected = [.. acknowledged.Except(gone)];
        await Wait.UntilAsync(() => SubjectsIfWhole() is { } now && expected.All(now.Contains), TimeSpan.FromSeconds(60),
            "every acknowledged message not deleted in the mailbox",
            () => string.Join(", ", expected.Except(SubjectsIfWhole() ?? [])) + "\n" + final.Output);
        int mark = final.Output.Length;
        await Wait.UntilAsync(() => final.Output[mark..].Contains(", queued=0, ", StringComparison.Ordinal), because: "an idle queue", observed: () => final.Output);
        await final.StopAsync();
        List<string> last = Subjects();
        Assert.Equal(last.Count, last.Distinct().Count());
        Assert.True(applied + notApplied > 0, "no round deleted anything");
        Assert.Empty(last.Intersect(gone));
    }
}
