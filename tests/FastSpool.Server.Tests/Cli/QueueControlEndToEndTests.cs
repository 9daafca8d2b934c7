using System.Globalization;
using System.Text.Json;
using FastSpool.Posix;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace FastSpool.Server.Tests.Cli;

/// <summary>The queue verbs against the real queue manager: the command line in this process, over the control
/// socket of a whole server that got its mail over SMTP. A locked mailbox keeps a message deferred for as long as a
/// test needs it.</summary>
public sealed class QueueControlEndToEndTests : IAsyncDisposable
{
    // mailq's columns: id (13 digits and a flag), size, arrival; recipients stand under the sender.
    private const string MailqHeader = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------";
    private static readonly string Indent = new(' ', 45);

    private TestServer? _server;

    private TestServer Server => _server!;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }

    /// <summary>A server whose retries come at once (every 200 ms to 1 s), or one that waits an hour after a
    /// deferral, so that what a test sees of a deferred message holds still until the test acts.</summary>
    private async Task StartAsync(bool slowRetries, string? dataDirectory = null)
    {
        _server = await TestServer.StartAsync(options =>
        {
            if (slowRetries)
            {
                options.Delivery.RetryDelay = TimeSpan.FromHours(1);
                options.Delivery.MaxRetryDelay = TimeSpan.FromHours(1);
            }
        }, dataDirectory, logLevel: LogLevel.Information);
    }

    private async Task RestartAsync(bool slowRetries)
    {
        string data = Server.Options.DataDirectory;
        Server.KeepData = true;
        await Server.DisposeAsync();
        _server = null;
        await StartAsync(slowRetries, data);
    }

    private CliResult Cli(params string[] args) => CliRunner.Run([.. args, "--data", Server.Options.DataDirectory]);

    private async Task LockMailboxAsync(string user)
    {
        Directory.CreateDirectory(Server.MailDirectory);
        await File.WriteAllTextAsync(Server.MailboxPath(user) + ".lock", Environment.ProcessId + "\n");
    }

    private void UnlockMailbox(string user) => File.Delete(Server.MailboxPath(user) + ".lock");

    private string LockedReason(string user) => $"mailbox {Server.MailboxPath(user)} is locked";

    private async Task<string> SendAsync(string subject, string from = "bob@localhost", string to = "alice@localhost")
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", Server.Port, SecureSocketOptions.None);
        string response = await client.SendAsync(TestMessage.Create(subject, "queued for the admin\n", to, from));
        await client.DisconnectAsync(true);
        Assert.Matches("^2.0.0 Ok: queued as [0-9A-F]{13}$", response);
        return response[^13..];
    }

    /// <summary>The message's line of <c>mailq --json</c>, or null when the queue does not hold it.</summary>
    private JsonElement? JsonLine(string id)
    {
        CliResult result = Cli("mailq", "--json");
        Assert.True(result.Code == 0, result.ToString());
        foreach (string line in result.OutLines)
        {
            JsonElement message = JsonDocument.Parse(line).RootElement;
            if (message.GetProperty("queue_id").GetString() == id)
                return message;
        }
        return null;
    }

    /// <summary>Starts the server and queues a message from bob to alice, whose mailbox is locked; returns once the
    /// message is deferred.</summary>
    private async Task<string> StartWithDeferredAsync(string subject, bool slowRetries) =>
        (await StartWithDeferredAsync(slowRetries, subject))[0];

    private async Task<string[]> StartWithDeferredAsync(bool slowRetries, params string[] subjects)
    {
        await StartAsync(slowRetries);
        await LockMailboxAsync("alice");
        string[] ids = new string[subjects.Length];
        for (int i = 0; i < subjects.Length; i++)
            ids[i] = await SendAsync(subjects[i]);
        foreach (string id in ids)
            await WaitUntilDeferredAsync(id);
        return ids;
    }

    /// <summary>The verb acted on <paramref name="id"/> alone, said so in one line, and nothing went wrong.</summary>
    private static void AssertActed(CliResult result, string id, string done) =>
        Assert.Equal((0, $"{id}: {done}\n", ""), (result.Code, result.Out, result.Error));

    private Task WaitUntilDeferredAsync(string id) =>
        Wait.UntilAsync(() => JsonLine(id) is { } m && m.GetProperty("queue_name").GetString() == "deferred"
                && m.GetProperty("recipients")[0].GetProperty("status").GetString() == "deferred",
            because: $"{id} to be deferred", observed: () => Cli("mailq", "--json").Out);

    private static string AscTime(long unixSeconds)
    {
        DateTime local = DateTimeOffset.FromUnixTimeSeconds(unixSeconds).LocalDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{local:ddd} {local:MMM} {local.Day,2} {local:HH:mm:ss}");
    }

    private static string ShowTime(long unixSeconds) =>
        TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeSeconds(unixSeconds), TimeZoneInfo.Local)
            .ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);

    private static string Who() =>
        Libc.UserNameOf(Libc.GetEffectiveUserId()) is { } name ? $"uid {Libc.GetEffectiveUserId()} ({name})" : $"uid {Libc.GetEffectiveUserId()}";

    [Fact]
    public async Task ADeferredMessageShowsInMailqWithItsReasonAndInQueueShowWithItsHistory()
    {
        string subject = "deferred " + Guid.NewGuid().ToString("N");
        DateTimeOffset sent = DateTimeOffset.UtcNow;
        string id = await StartWithDeferredAsync(subject, slowRetries: true);

        JsonElement json = JsonLine(id)!.Value;
        long size = json.GetProperty("message_size").GetInt64();
        long arrival = json.GetProperty("arrival_time").GetInt64();
        Assert.InRange(arrival, sent.ToUnixTimeSeconds() - 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.Equal("bob@localhost", json.GetProperty("sender").GetString());
        JsonElement recipient = Assert.Single(json.GetProperty("recipients").EnumerateArray());
        Assert.Equal("alice@localhost", recipient.GetProperty("address").GetString());
        Assert.Equal("deferred", recipient.GetProperty("status").GetString());
        Assert.Equal(1, recipient.GetProperty("attempts").GetInt32());
        Assert.Equal(LockedReason("alice"), recipient.GetProperty("delay_reason").GetString());
        // The retry is an hour after the attempt, which came within seconds of the arrival.
        long next = recipient.GetProperty("next_attempt").GetInt64();
        Assert.InRange(next, arrival + 3600, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3601);

        CliResult mailq = Cli("mailq");
        Assert.Equal(0, mailq.Code);
        Assert.Equal("", mailq.Error);
        Assert.True(size > 200, $"size {size}");
        string expected = MailqHeader + "\n"
            + $"{id,-14} {size,8} {AscTime(arrival)}  bob@localhost\n"
            + $"{Indent}({LockedReason("alice")})\n"
            + $"{Indent}alice@localhost\n"
            + "\n"
            + $"-- {(size + 1023) / 1024} Kbytes in 1 Request.\n";
        Assert.Equal(expected, mailq.Out);

        CliResult show = Cli("queue", "show", id.ToLowerInvariant());
        Assert.Equal(0, show.Code);
        Assert.Equal("", show.Error);
        string[] lines = show.Out.Split('\n');
        Assert.Contains($"Queue ID:      {id}", lines);
        Assert.Contains($"Arrival:       {ShowTime(arrival)}", lines);
        Assert.Contains($"Size:          {size} octets", lines);
        Assert.Contains("Sender:        <bob@localhost>", lines);
        Assert.Contains("Origin:        smtp", lines);
        Assert.Contains("Client:        127.0.0.1", lines);
        Assert.Contains("RET:           HDRS", lines);
        Assert.Contains("State:         queued", lines);
        Assert.Contains("Recipient 1: <alice@localhost>", lines);
        Assert.Contains($"  State:       deferred, 1 attempt, next {ShowTime(next)}", lines);
        Assert.Contains($"  Last reply:  450 4.2.0 {LockedReason("alice")}", lines);
        int history = Array.IndexOf(lines, "  History:");
        Assert.True(history > 0, show.Out);
        Assert.Matches($@"^    \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d  deferred  450 4\.2\.0 {System.Text.RegularExpressions.Regex.Escape(LockedReason("alice"))}$", lines[history + 1]);
        int headers = Array.IndexOf(lines, "Headers:");
        Assert.True(headers > history, show.Out);
        Assert.Contains($"Subject: {subject}", lines[headers..]);
        Assert.Contains("From: bob@localhost", lines[headers..]);
        Assert.Contains($"id {id}", string.Join(' ', lines[headers..])); // our Received header
    }

    [Fact]
    public async Task AHeldMessageWaitsThroughAFlushAndARestartAndIsDeliveredOnceWhenReleased()
    {
        string id = await StartWithDeferredAsync("held", slowRetries: false);

        CliResult hold = Cli("hold", id);
        AssertActed(hold, id, "placed on hold");
        Assert.Contains($"\n{id}! ", Cli("mailq").Out);
        Assert.Equal("hold", JsonLine(id)!.Value.GetProperty("queue_name").GetString());
        Assert.Contains($"{id}: hold (by {Who()})", Server.Log.Lines);
        // An attempt that was under way when the hold came is over before the lock goes.
        await Server.WaitForIdleQueueButHeldAsync(1);

        UnlockMailbox("alice");
        string path = Server.MailboxPath("alice");
        string after = await SendAsync("after the hold");
        CliResult flush = Cli("flush");
        Assert.Equal(0, flush.Code);
        Assert.Contains($"{id}: flushed\n", flush.Out);
        await Mailbox.WaitForAsync(path, 1);
        await Server.WaitForIdleQueueButHeldAsync(1);
        // Retries come every 200 ms to 1 s here: a held message that was still scheduled would be delivered now.
        await Wait.ThroughoutAsync(() => Mailbox.CountSeparators(path) == 1, TimeSpan.FromSeconds(1.5), "only the message sent after the hold delivered");
        Assert.Equal(["after the hold"], Mailbox.Read(path).Select(m => m.Message.Subject));

        await RestartAsync(slowRetries: false);
        Assert.Contains($"\n{id}! ", Cli("mailq").Out);
        await Server.WaitForIdleQueueButHeldAsync(1);
        await Wait.ThroughoutAsync(() => Mailbox.CountSeparators(path) == 1, TimeSpan.FromSeconds(1.5), "the held message still not delivered after the restart");

        CliResult release = Cli("release", id);
        AssertActed(release, id, "released from hold");
        var delivered = await Server.DeliveredAsync("alice", 2);
        Assert.Equal(["after the hold", "held"], delivered.Select(m => m.Message.Subject));
        Assert.Contains(after, delivered[0].Message.Headers[HeaderId.Received]);
        Assert.Contains(id, delivered[1].Message.Headers[HeaderId.Received]);
        Assert.Equal("Mail queue is empty\n", Cli("mailq").Out);
    }

    [Fact]
    public async Task RequeueTriesADeferredMessageAtOnce()
    {
        string id = await StartWithDeferredAsync("requeued", slowRetries: true);
        UnlockMailbox("alice");

        CliResult requeue = Cli("requeue", id);
        AssertActed(requeue, id, "requeued");
        // Its retry was an hour away: only the requeue brings it now.
        var (_, message) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.Equal("requeued", message.Subject);
        Assert.Contains($"{id}: requeued (by {Who()})", Server.Log.Lines);
    }

    [Fact]
    public async Task FlushTriesEveryDeferredMessageAtOnce()
    {
        string[] ids = await StartWithDeferredAsync(slowRetries: true, "first", "second");
        (string first, string second) = (ids[0], ids[1]);
        UnlockMailbox("alice");

        CliResult flush = Cli("flush");
        Assert.Equal(0, flush.Code);
        Assert.Equal([$"{first}: flushed", $"{second}: flushed"], flush.OutLines.Order());
        Assert.Equal(["first", "second"], (await Server.DeliveredAsync("alice", 2)).Select(m => m.Message.Subject));
    }

    [Fact]
    public async Task DeleteRemovesAMessageThatIsNeverDeliveredAfterwards()
    {
        string id = await StartWithDeferredAsync("deleted", slowRetries: true);

        CliResult delete = Cli("delete", id);
        AssertActed(delete, id, "deleted");
        Assert.Equal("Mail queue is empty\n", Cli("mailq").Out);
        Assert.Contains($"{id}: removed (deleted by {Who()})", Server.Log.Lines);
        Assert.Equal(0, Server.QueuedMessages);

        UnlockMailbox("alice");
        Assert.Equal(0, Cli("flush").Code);
        await RestartAsync(slowRetries: true);
        Assert.Equal("Mail queue is empty\n", Cli("mailq").Out);
        // Mail to one mailbox goes in queue order: a deleted message that came back would be there before this one.
        await SendAsync("after the delete");
        Assert.Equal("after the delete", Assert.Single(await Server.DeliveredAsync("alice", 1)).Message.Subject);
        Assert.Empty(ReceivedDsn.InMailbox(Server, "bob"));
    }

    [Fact]
    public async Task DeleteWithBounceSendsTheSenderOneFailureReport()
    {
        string subject = "bounced by the admin " + Guid.NewGuid().ToString("N");
        string id = await StartWithDeferredAsync(subject, slowRetries: true);

        CliResult delete = Cli("delete", "--bounce", id);
        AssertActed(delete, id, "deleted, sender notified");
        var (marker, notice) = Assert.Single(await Server.DeliveredAsync("bob", 1));
        Assert.StartsWith("From MAILER-DAEMON ", marker);
        Assert.Equal("MAILER-DAEMON@mx.example.test", notice.From.Mailboxes.Single().Address);
        Assert.Equal("bob@localhost", notice.To.Mailboxes.Single().Address);
        ReceivedDsn dsn = ReceivedDsn.Read(notice);
        Assert.Equal("dns; mx.example.test", dsn.PerMessage["Reporting-MTA"]);
        Assert.Equal(id, dsn.OriginalId);
        HeaderList recipient = dsn.Recipient;
        Assert.Equal("rfc822; alice@localhost", recipient["Final-Recipient"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.0.0", recipient["Status"]);
        Assert.Contains("deleted from the queue by the administrator", recipient["Diagnostic-Code"]);
        Assert.Equal(subject, dsn.ReturnedHeaders()[HeaderId.Subject]);

        UnlockMailbox("alice");
        Assert.Equal(0, Cli("flush").Code);
        Assert.Equal("Mail queue is empty\n", Cli("mailq").Out);
        await Server.WaitForIdleQueueAsync();
        Assert.Equal(0, Mailbox.CountSeparators(Server.MailboxPath("alice")));
        Assert.Single(Mailbox.Read(Server.MailboxPath("bob")));
    }

    [Fact]
    public async Task DeleteAllDeferredAndDeleteAllEmptyTheQueue()
    {
        string[] ids = await StartWithDeferredAsync(slowRetries: true, "first", "second");
        (string first, string second) = (ids[0], ids[1]);

        CliResult deferred = Cli("delete", "--all-deferred");
        Assert.Equal(0, deferred.Code);
        Assert.Equal([$"{first}: deleted", $"{second}: deleted"], deferred.OutLines.Order());
        Assert.Equal("Mail queue is empty\n", Cli("mailq").Out);

        string third = await SendAsync("third");
        string held = await SendAsync("held");
        await WaitUntilDeferredAsync(third);
        await WaitUntilDeferredAsync(held);
        Assert.Equal(0, Cli("hold", held).Code);
        CliResult all = Cli("delete", "--all");
        Assert.Equal(0, all.Code);
        Assert.Equal(new[] { $"{held}: deleted", $"{third}: deleted" }.Order(), all.OutLines.Order());
        Assert.Equal("Mail queue is empty\n", Cli("mailq").Out);

        UnlockMailbox("alice");
        // Mail to one mailbox goes in queue order: a deleted message that came back would be there before this one.
        // The mailbox waits out its hour of backoff unless flushed.
        await SendAsync("after the deletes");
        Assert.Equal(0, Cli("flush").Code);
        Assert.Equal("after the deletes", Assert.Single(await Server.DeliveredAsync("alice", 1)).Message.Subject);
    }

    [Fact]
    public async Task UnknownIdsBadArgumentsAndAStoppedServerEachGetTheirExitCodeAndOneLine()
    {
        string id = await StartWithDeferredAsync("kept", slowRetries: true);
        const string Unknown = "00000000000AB";

        CliResult hold = Cli("hold", id, Unknown.ToLowerInvariant());
        Assert.Equal((66, $"{id}: placed on hold\n", $"fastspool: {Unknown}: no such message in the queue\n"), (hold.Code, hold.Out, hold.Error));
        CliResult delete = Cli("delete", Unknown);
        Assert.Equal((66, "", $"fastspool: {Unknown}: no such message in the queue\n"), (delete.Code, delete.Out, delete.Error));
        CliResult show = Cli("queue", "show", Unknown);
        Assert.Equal(66, show.Code);
        Assert.Equal("", show.Out);
        Assert.Equal($"fastspool: no message {Unknown} in the queue\n", show.Error);

        foreach (string[] args in new string[][] { ["hold"], ["release", "not-an-id"], ["delete"], ["delete", "--all", id], ["delete", "--all", "--all-deferred"], ["flush", "--bounce"] })
        {
            CliResult bad = Cli(args);
            Assert.True(bad.Code == 64, $"{string.Join(' ', args)}: {bad}");
            Assert.Equal("", bad.Out);
            Assert.StartsWith("fastspool: ", bad.Error);
        }
        Assert.Contains($"\n{id}! ", Cli("mailq").Out);

        string socket = Path.Combine(Server.Options.DataDirectory, "control.sock");
        Server.KeepData = true;
        await Server.DisposeAsync();
        _server = null;
        try
        {
            foreach (string[] args in new string[][] { ["mailq"], ["hold", id], ["queue", "show", id] })
            {
                CliResult down = CliRunner.Run([.. args, "--data", Path.GetDirectoryName(socket)!]);
                Assert.Equal((69, "", $"fastspool: the server is not running (no control socket at {socket})\n"), (down.Code, down.Out, down.Error));
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(socket)!, recursive: true);
        }
    }
}
