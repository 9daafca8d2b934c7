using System.Globalization;
using System.Text;
using System.Text.Json;
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

    /// <summary>The recipient's line of <c>mailq --json</c> and its lines in <c>queue show</c> (state, last reply,
    /// history), as the command line prints them.</summary>
    private static (JsonElement Json, string[] Shown) Deferral(TestServer server, string id)
    {
        CliResult mailq = CliRunner.Run("mailq", "--json", "--data", server.Options.DataDirectory);
        Assert.True(mailq.Code == 0, mailq.ToString());
        JsonElement message = JsonDocument.Parse(Assert.Single(mailq.OutLines)).RootElement;
        Assert.Equal(id, message.GetProperty("queue_id").GetString());
        CliResult show = CliRunner.Run("queue", "show", id, "--data", server.Options.DataDirectory);
        Assert.True(show.Code == 0, show.ToString());
        string[] recipient = show.Out[show.Out.IndexOf("\nRecipient 1:", StringComparison.Ordinal)..show.Out.IndexOf("\nHeaders:", StringComparison.Ordinal)].Split('\n');
        return (message.GetProperty("recipients")[0], recipient);
    }

    /// <summary>The delivery time in an mbox From_ line (<c>From bob@localhost  Sat Nov  1 21:32:36 2026</c>, local time).</summary>
    private static DateTimeOffset FromLineTime(string marker)
    {
        string asctime = marker[(marker.IndexOf("  ", StringComparison.Ordinal) + 2)..].Replace("  ", " ", StringComparison.Ordinal);
        DateTime local = DateTime.ParseExact(asctime, "ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture);
        return new DateTimeOffset(local, TimeZoneInfo.Local.GetUtcOffset(local));
    }

    [Fact]
    public async Task ADeferredMessageKeepsItsRetryTimeAndAttemptsAcrossARestart()
    {
        // Ten seconds between attempts: room for a restart before the retry on a loaded machine.
        static void SlowRetries(FastSpool.Configuration.FastSpoolOptions options)
        {
            options.Delivery.RetryDelay = TimeSpan.FromSeconds(10);
            options.Delivery.MaxRetryDelay = TimeSpan.FromSeconds(10);
        }
        TestServer first = await TestServer.StartAsync(SlowRetries);
        string data = first.Options.DataDirectory;
        first.KeepData = true;
        await HoldLockAsync(first, "alice");
        string id;
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", first.Port, SecureSocketOptions.None);
            string response = await client.SendAsync(Message("retried later", "alice@localhost"));
            id = response[^13..];
            await client.DisconnectAsync(true);
        }
        await Wait.UntilAsync(() => Deferral(first, id).Json.GetProperty("status").GetString() == "deferred", because: $"{id} to be deferred");
        (JsonElement before, string[] shownBefore) = Deferral(first, id);
        await first.DisposeAsync();
        File.Delete(first.MailboxPath("alice") + ".lock");

        await using TestServer second = await TestServer.StartAsync(SlowRetries, data);
        (JsonElement after, string[] shownAfter) = Deferral(second, id);
        long next = before.GetProperty("next_attempt").GetInt64();
        Assert.True(DateTimeOffset.UtcNow.ToUnixTimeSeconds() < next, "the restart took longer than the retry delay; nothing to check");
        Assert.Equal(1, before.GetProperty("attempts").GetInt32());
        Assert.Equal(before.ToString(), after.ToString());
        Assert.Equal(shownBefore, shownAfter);
        Assert.Contains($"  State:       deferred, 1 attempt, next {DateTimeOffset.FromUnixTimeSeconds(next).ToLocalTime():yyyy-MM-dd HH:mm:ss zzz}", shownAfter);

        // The mailbox is free since the restart, but the message waits for its recorded retry time.
        var (marker, message) = Assert.Single(await second.DeliveredAsync("alice", 1));
        Assert.Equal("retried later", message.Subject);
        Assert.True(FromLineTime(marker).ToUnixTimeSeconds() >= next, $"delivered at '{marker}', before its retry time {DateTimeOffset.FromUnixTimeSeconds(next).ToLocalTime()}");
    }
}
