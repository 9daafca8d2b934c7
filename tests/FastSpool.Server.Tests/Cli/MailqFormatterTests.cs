using System.Text.Json;
using FastSpool.Cli;
using FastSpool.Delivery.Control;
using FastSpool.Queue;
using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests.Cli;

/// <summary><c>fastspool mailq</c>'s text and JSON lines, without a server.</summary>
public sealed class MailqFormatterTests
{
    /// <summary>Where recipients stand: under the sender.</summary>
    private static readonly string R = new(' ', 45);

    private static QueuedMessageView Message(string id, long size, string sender = "bob@example.org", params RecipientView[] recipients) =>
        QueueSamples.Held() with { Id = id, Size = size, Sender = sender, Held = false, Recipients = recipients };

    private static RecipientView Pending(string address) =>
        new(0, address, null, null, RecipientStatus.Pending, 0, null, null, []);

    [Fact]
    public void TheQueueIsListedAsPostfixListsIt()
    {
        string text = MailqFormatter.Text([QueueSamples.Deferred(), QueueSamples.Held(), QueueSamples.Bounce()], TimeZoneInfo.Utc);
        Assert.Equal(
            "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n" +
            "6B05C71800001      1234 Sun Nov 29 21:32:36  bob@example.org\n" +
            R + "dave@localhost\n" +
            R + "(mailbox /var/mail/carol is locked)\n" +
            R + "carol@localhost\n" +
            "\n" +
            "6B05C71800002!      600 Sun Nov 29 21:33:36  erin@example.org\n" +
            R + "bob@localhost\n" +
            "\n" +
            "6B05C71800003*     2100 Sun Nov 29 21:34:36  MAILER-DAEMON\n" +
            R + "frank@localhost\n" +
            "\n" +
            "-- 4 Kbytes in 3 Requests.\n",
            text);
    }

    [Fact]
    public void AnEmptyQueueSaysSo() =>
        Assert.Equal("Mail queue is empty\n", MailqFormatter.Text([], TimeZoneInfo.Utc));

    [Theory]
    [InlineData(1, "-- 1 Kbytes in 1 Request.")]
    [InlineData(1024, "-- 1 Kbytes in 1 Request.")]
    [InlineData(1025, "-- 2 Kbytes in 1 Request.")]
    public void TheTotalRoundsKbytesUp(long size, string total)
    {
        string text = MailqFormatter.Text([Message("6B05C71800009", size, "bob@example.org", Pending("a@localhost"))], TimeZoneInfo.Utc);
        Assert.EndsWith("\n\n" + total + "\n", text);
    }

    [Fact]
    public void RecipientsWithTheSameReasonShareOneReasonLineAndDoneOnesAreLeftOut()
    {
        var locked = new DeliveryReply(451, "4.2.0", "locked");
        var full = new DeliveryReply(452, "4.2.2", "mailbox full");
        RecipientView Deferred(string address, DeliveryReply reply) =>
            new(0, address, null, null, RecipientStatus.Deferred, 1, null, reply, []);
        QueuedMessageView message = Message("6B05C71800009", 10, "bob@example.org",
            Deferred("a@localhost", locked),
            Deferred("b@localhost", full),
            Deferred("c@localhost", locked),
            new RecipientView(3, "d@localhost", null, null, RecipientStatus.Bounced, 1, null, full, []),
            new RecipientView(4, "e@localhost", null, null, RecipientStatus.Sent, 1, null, null, []),
            Pending("f@localhost"));
        string[] lines = MailqFormatter.Text([message], TimeZoneInfo.Utc).Split('\n')[2..^3];
        Assert.Equal([R + "f@localhost", R + "(locked)", R + "a@localhost", R + "c@localhost", R + "(mailbox full)", R + "b@localhost"], lines);
    }

    [Fact]
    public void ArrivalIsInTheGivenZoneWithTheDayPaddedAsAsctimeDoes()
    {
        TimeZoneInfo plusOne = TimeZoneInfo.CreateCustomTimeZone("Test+01", TimeSpan.FromHours(1), "Test+01", "Test+01");
        Assert.Equal("Sun Nov 29 22:32:36", MailqFormatter.AscTime(QueueSamples.Arrival, plusOne));
        Assert.Equal("Mon Nov  2 00:00:05", MailqFormatter.AscTime(new DateTimeOffset(2026, 11, 1, 23, 0, 5, TimeSpan.Zero), plusOne));
    }

    [Fact]
    public void JsonIsOneObjectPerLinePerMessageWithEveryRecipientsState()
    {
        string[] lines = MailqFormatter.JsonLines([QueueSamples.Deferred(), QueueSamples.Held(), QueueSamples.Bounce()]).Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal("", lines[3]);
        JsonElement[] messages = [.. lines[..3].Select(l => JsonDocument.Parse(l).RootElement)];
        Assert.Equal(["deferred", "hold", "active"], messages.Select(m => m.GetProperty("queue_name").GetString()));
        JsonElement first = messages[0];
        Assert.Equal(QueueSamples.DeferredId, first.GetProperty("queue_id").GetString());
        Assert.Equal(QueueSamples.Arrival.ToUnixTimeSeconds(), first.GetProperty("arrival_time").GetInt64());
        Assert.Equal(1234, first.GetProperty("message_size").GetInt64());
        Assert.Equal("bob@example.org", first.GetProperty("sender").GetString());
        JsonElement carol = first.GetProperty("recipients")[0];
        Assert.Equal("carol@localhost", carol.GetProperty("address").GetString());
        Assert.Equal("deferred", carol.GetProperty("status").GetString());
        Assert.Equal(2, carol.GetProperty("attempts").GetInt32());
        Assert.Equal(QueueSamples.Arrival.AddMinutes(10).ToUnixTimeSeconds(), carol.GetProperty("next_attempt").GetInt64());
        Assert.Equal("mailbox /var/mail/carol is locked", carol.GetProperty("delay_reason").GetString());
        Assert.Equal(["deferred", "pending", "sent"], first.GetProperty("recipients").EnumerateArray().Select(r => r.GetProperty("status").GetString()));
        Assert.False(first.GetProperty("recipients")[1].TryGetProperty("delay_reason", out _));
        Assert.Equal("", messages[2].GetProperty("sender").GetString());
    }

    [Fact]
    public void JsonKeepsNonAsciiAddressesAndAngleBracketsReadable()
    {
        QueuedMessageView message = Message("6B05C71800009", 10, "jörg@bücher.example", Pending("a@localhost"))
            with { Recipients = [new RecipientView(0, "zoë@localhost", null, null, RecipientStatus.Deferred, 1, null,
                new DeliveryReply(451, "4.2.0", "<zoë@localhost> is locked"), [])] };
        string line = MailqFormatter.JsonLines([message]);
        Assert.Contains("\"sender\":\"jörg@bücher.example\"", line);
        Assert.Contains("\"delay_reason\":\"<zoë@localhost> is locked\"", line);
    }
}
