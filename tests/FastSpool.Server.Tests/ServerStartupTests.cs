using System.Text;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace FastSpool.Server.Tests;

public sealed class ServerStartupTests
{
    private static MimeMessage Message(string subject, string body = "hello\n", string to = "alice@localhost") =>
        TestMessage.Create(subject, body, to);

    [Fact]
    public async Task ASecondServerOnTheSameDataDirectoryRefusesToStartAndNamesTheFirst()
    {
        await using TestServer first = await TestServer.StartAsync();
        var e = await Assert.ThrowsAsync<ServerStartException>(() => TestServer.StartAsync(dataDirectory: first.Options.DataDirectory));
        Assert.Contains($"another FastSpool (pid {Environment.ProcessId}) is running on the data directory", e.Message);
    }

    [Fact]
    public async Task TheStatisticsLineCountsConnectionsMessagesAndAllocatedBytes()
    {
        string data = Path.Combine(Path.GetTempPath(), "fastspool-stats-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(data);
            new FastSpool.Users.UserStore(data).Add("alice", null);
            int port = TestServer.FreePort();
            using (ServerProcess server = await ServerProcess.StartAsync(data, port, "--StatisticsInterval=00:00:00.200"))
            {
                using (var client = new SmtpClient())
                {
                    await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
                    await client.SendAsync(Message("one"));
                    await client.SendAsync(Message("two"));
                    await client.DisconnectAsync(true);
                }
                await Mailbox.WaitForAsync(Path.Combine(data, "mail", "alice"), 2);
                await Wait.UntilAsync(() => server.Output.Contains("statistics: connections=1, accepted=2, ", StringComparison.Ordinal),
                    TimeSpan.FromSeconds(20), "a statistics line that counts the two messages", () => server.Output);
                await server.StopAsync();
                string last = server.Output.Split('\n').Last(l => l.Contains("statistics:", StringComparison.Ordinal));
                Assert.Matches(@"statistics: connections=1, accepted=2, accepted_bytes=\d{3,}, queued=0, allocated=\d+, gc=\d+/\d+/\d+, rss=\d+, threads=\d+$", last);
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task ACommitFailureAnswers451UntilTheQueueIsHealthyAgain()
    {
        FaultyQueueLog? faulty = null;
        await using TestServer server = await TestServer.StartAsync(decorateLog: log => faulty = new FaultyQueueLog(log));
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
        await client.SendAsync(Message("before"));
        // Delivery commits an intent too, so let the first message reach its mailbox before the disk "fails".
        await server.DeliveredAsync("alice", 1);
        faulty!.FailCommits();

        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message("during")));
        Assert.Equal((SmtpStatusCode)451, refused.StatusCode);
        Assert.Contains("queue file write error", refused.Message);
        var again = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message("still")));
        Assert.Equal((SmtpStatusCode)451, again.StatusCode);

        faulty.Heal();
        await Wait.UntilAsync(() => server.Server.Queue.IsHealthy, TimeSpan.FromSeconds(10), "the queue to come back");
        await client.SendAsync(Message("after"));
        var delivered = await server.DeliveredAsync("alice", 2);
        Assert.Equal(["before", "after"], delivered.Select(d => d.Message.Subject));
    }

    [SmallDiskFact]
    public async Task AFullDiskIsAnswered451AndMailIsAcceptedAgainOnceThereIsRoom()
    {
        using SmallDisk disk = SmallDisk.Mount(24);
        string mail = Path.Combine(Path.GetTempPath(), "fastspool-mail-" + Guid.NewGuid().ToString("N"));
        await using TestServer server = await TestServer.StartAsync(o => o.Delivery.MailDirectory = mail, dataDirectory: Path.Combine(disk.Path, "data"));
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
        string body = string.Concat(Enumerable.Repeat(new string('z', 78) + "\n", 3000));
        await client.SendAsync(Message("before", body));
        await server.DeliveredAsync("alice", 1);

        disk.Fill();
        SmtpCommandException? refused = null;
        int acceptedWhileFilling = 0;
        for (int i = 0; i < 10 && refused is null; i++)
        {
            refused = await Record.ExceptionAsync(() => client.SendAsync(Message($"full {i}", body))) as SmtpCommandException;
            if (refused is null)
                acceptedWhileFilling++; // the log still had room in its current segment
        }
        Assert.NotNull(refused);
        Assert.Equal((SmtpStatusCode)451, refused.StatusCode);

        disk.Free();
        await Wait.UntilAsync(() => server.Server.Queue.IsHealthy, TimeSpan.FromSeconds(20), "the queue to come back after the disk was freed");
        await client.SendAsync(Message("after", body));
        // Mail refused with 451 was never queued: exactly what got a 250 is delivered.
        var delivered = await server.DeliveredAsync("alice", 2 + acceptedWhileFilling);
        Assert.Equal("before", delivered[0].Message.Subject);
        Assert.Equal("after", delivered[^1].Message.Subject);
        Directory.Delete(mail, recursive: true);
    }

    [Fact]
    public async Task AQueueFailureWhileReceivingIsAnswered451AtTheEndOfTheData()
    {
        FaultyQueueLog? faulty = null;
        await using TestServer server = await TestServer.StartAsync(decorateLog: log => faulty = new FaultyQueueLog(log));
        using var raw = await RawSmtp.ConnectAsync(server.Port);
        await raw.ExpectAsync("220 ");
        await raw.SendAsync("EHLO client.test\r\n");
        await raw.ExpectAsync("250 CHUNKING");
        await raw.SendAsync("MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\n");
        await raw.ExpectAsync("250 2.1.0");
        await raw.ExpectAsync("250 2.1.5");
        await raw.SendAsync("DATA\r\n");
        await raw.ExpectAsync("354 ");
        faulty!.FailCommits();
        string line = new string('y', 78) + "\r\n";
        await raw.SendAsync("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(line, 8000)) + ".\r\n");
        await raw.ExpectAsync("451 4.3.0 Error: queue file write error");
        await raw.SendAsync("QUIT\r\n");
        await raw.ExpectAsync("221 ");
        Assert.False(File.Exists(server.MailboxPath("alice")));
    }

    [Fact]
    public async Task ListensOnIPv6Loopback()
    {
        int port = TestServer.FreePort();
        await using TestServer server = await TestServer.StartAsync(o => o.Smtp.Listen = [$"[::1]:{port}"]);
        using var client = new SmtpClient();
        await client.ConnectAsync("::1", port, SecureSocketOptions.None);
        await client.SendAsync(Message("over IPv6"));
        await client.DisconnectAsync(true);
        var (_, message) = Assert.Single(await server.DeliveredAsync("alice", 1));
        Assert.Equal("over IPv6", message.Subject);
        Assert.Contains("([::1])", message.Headers["Received"]);
    }

    [Fact]
    public async Task PythonsMailboxModuleReadsTheMailbox()
    {
        await using TestServer server = await TestServer.StartAsync();
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
            await client.SendAsync(Message("one", "From the start\nplain line\n"));
            await client.SendAsync(Message("two", "second\n"));
            await client.SendAsync(Message("three", "third\n\n\nwith blank lines\n"));
            await client.DisconnectAsync(true);
        }
        await server.DeliveredAsync("alice", 3);

        const string script = """
            import mailbox, sys
            for m in mailbox.mbox(sys.argv[1]):
                body = m.get_payload(decode=True).decode().replace('\r\n', '\n')
                print(m['Subject'] + '|' + m.get_from().split()[0] + '|' + body.replace('\n', '\\n'))
            """;
        Assert.Equal(
            [
                "one|bob@example.org|>From the start\\nplain line\\n",
                "two|bob@example.org|second\\n",
                "three|bob@example.org|third\\n\\n\\nwith blank lines\\n",
            ],
            await PythonMailbox.RunAsync(script, server.MailboxPath("alice")));
    }
}
