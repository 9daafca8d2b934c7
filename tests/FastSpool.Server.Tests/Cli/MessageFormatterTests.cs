using FastSpool.Cli;
using FastSpool.Queue;
using FastSpool.Server.Admin;
using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests.Cli;

/// <summary><c>fastspool queue show</c>'s text, without a server.</summary>
public sealed class MessageFormatterTests
{
    [Fact]
    public void ShowListsTheEnvelopeEachRecipientsHistoryAndTheHeaders()
    {
        string text = MessageFormatter.Text(new MessageDetails(QueueSamples.Deferred(), QueueSamples.DeferredHeaders), TimeZoneInfo.Utc);
        Assert.Equal("""
            Queue ID:      6B05C71800001
            Arrival:       2026-11-29 21:32:36 +00:00
            Size:          1234 octets
            Sender:        <bob@example.org>
            Origin:        smtp
            Client:        127.0.0.1
            HELO:          client.test
            Auth name:     bob
            ENVID:         env-1
            RET:           HDRS
            State:         queued

            Recipient 1: <carol@localhost>
              State:       deferred, 2 attempts, next 2026-11-29 21:42:36 +00:00
              ORCPT:       rfc822;carol@example.org
              NOTIFY:      FAILURE
              Last reply:  451 4.2.0 mailbox /var/mail/carol is locked
              History:
                2026-11-29 21:32:36 +00:00  pending
                2026-11-29 21:32:37 +00:00  deferred  451 4.2.0 mailbox /var/mail/carol is locked
                2026-11-29 21:37:36 +00:00  deferred  451 4.2.0 mailbox /var/mail/carol is locked

            Recipient 2: <dave@localhost>
              State:       pending, 0 attempts
              Last reply:  -

            Recipient 3: <alice@localhost>
              State:       sent, 1 attempt
              Last reply:  250 2.0.0 delivered to mailbox alice

            Headers:
            From: bob@example.org
            To: carol@localhost
            Subject: hello

            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void AbsentFieldsShowAsADashAndTheNullSenderAsEmptyBrackets()
    {
        string text = MessageFormatter.Text(new MessageDetails(QueueSamples.Bounce(), "Subject: x"), TimeZoneInfo.Utc);
        Assert.Contains("Sender:        <>\n", text);
        Assert.Contains("Client:        -\n", text);
        Assert.Contains("HELO:          -\n", text);
        Assert.Contains("Auth name:     -\n", text);
        Assert.Contains("ENVID:         -\n", text);
        Assert.Contains("State:         active (being delivered)\n", text);
        Assert.EndsWith("Headers:\nSubject: x\n", text);
        Assert.Contains("State:         held\n", MessageFormatter.Text(new MessageDetails(QueueSamples.Held(), ""), TimeZoneInfo.Utc));
        Assert.Contains("RET:           FULL\n", MessageFormatter.Text(new MessageDetails(QueueSamples.Held(), ""), TimeZoneInfo.Utc));
    }

    [Fact]
    public void ARelayReplyNamesItsHost()
    {
        var message = QueueSamples.Held() with
        {
            Recipients = [new(0, "x@example.net", null, null, RecipientStatus.Bounced, 1, null,
                new DeliveryReply(550, "5.1.1", "user unknown", "mx.example.net"), [])],
        };
        Assert.Contains("  Last reply:  550 5.1.1 user unknown (from mx.example.net)\n",
            MessageFormatter.Text(new MessageDetails(message, ""), TimeZoneInfo.Utc));
    }
}
