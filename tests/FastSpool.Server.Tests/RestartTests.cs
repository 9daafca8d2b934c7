using System.Text;
using FastSpool.Server.Tests.Support;
using FastSpool.Users;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace FastSpool.Server.Tests;

/// <summary>Clean stops and restarts with mail still in the queue.</summary>
public sealed class RestartTests
{
    private static MimeMessage Message(string subject, string to, int size = 100)
    {
        var text = new StringBuilder();
        while (text.Length < size)
            text.Append(subject).Append(" 0123456789 abcdefghijklmnopqrstuvwxyz\n");
        return TestMessage.Create(subject, text.ToString(), to, "sender@example.org");
    }

    private static async Task HoldLockAsync(TestServer server, string user)
    {
        Directory.CreateDirectory(server.MailDirectory);
        await File.WriteAllTextAsync(server.MailboxPath(user) + ".lock", Environment.ProcessId + "\n");
    }

    [Fact]
    public async Task QueuedMailSurvivesARestartEvenWhenAnEarlierMessageHasNothingLeftToDeliver()
    {
        TestServer first = await TestServer.StartAsync();
        string data = first.Options.DataDirectory;
        first.KeepData = true;
        new UserStore(data).Add("carol", null);
        await first.WaitUntilDeliverableAsync("carol");
        await HoldLockAsync(first, "carol");
        await HoldLockAsync(first, "bob");
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", first.Port, SecureSocketOptions.None);
            await client.SendAsync(Message("m1", "carol@localhost"));
            await client.SendAsync(Message("m2", "bob@localhost", 1_500_000)); // spans several log pages
            await client.SendAsync(Message("m3", "bob@localhost"));
            await client.DisconnectAsync(true);
        }
        await first.DisposeAsync();

        // carol is gone by the time the server comes back: m1 finishes during recovery, before m2 and m3 are
        // registered. That must not let truncation pass them.
        new UserStore(data).Remove("carol");
        File.Delete(first.MailboxPath("carol") + ".lock");
        File.Delete(first.MailboxPath("bob") + ".lock");
        await using TestServer second = await TestServer.StartAsync(dataDirectory: data);
        var bob = await second.DeliveredAsync("bob", 2);
        Assert.Equal(["m2", "m3"], bob.Select(m => m.Message.Subject));
        Assert.StartsWith("m2 0123456789", bob[0].Message.TextBody);
    }

    [Fact]
    public async Task AMessageQueuedBeforeACleanStopIsDeliveredOnceAfterTheRestart()
    {
        TestServer first = await TestServer.StartAsync();
        string data = first.Options.DataDirectory;
        first.KeepData = true;
        await HoldLockAsync(first, "alice");
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", first.Port, SecureSocketOptions.None);
            await client.SendAsync(Message("kept", "alice@localhost"));
            await client.DisconnectAsync(true);
        }
        await first.DisposeAsync();
        File.Delete(first.MailboxPath("alice") + ".lock");

        await using (TestServer second = await TestServer.StartAsync(dataDirectory: data))
        {
            second.KeepData = true;
            // Delivered once the queue is idle, so the stop below finds nothing left to do.
            Assert.Equal("kept", Assert.Single(await second.DeliveredAsync("alice", 1)).Message.Subject);
        }
        await using TestServer third = await TestServer.StartAsync(dataDirectory: data);
        Assert.Equal(0, third.QueuedMessages);
        Assert.Single(Mailbox.Read(third.MailboxPath("alice")));
    }
}
