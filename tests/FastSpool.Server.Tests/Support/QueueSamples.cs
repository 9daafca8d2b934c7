using FastSpool.Delivery.Control;
using FastSpool.Queue;

namespace FastSpool.Server.Tests.Support;

/// <summary>Queue views as the queue manager would report them, for the admin endpoint and the <c>mailq</c> text.</summary>
internal static class QueueSamples
{
    public const string DeferredId = "6B05C71800001";
    public const string HeldId = "6B05C71800002";
    public const string BounceId = "6B05C71800003";
    public const string UnknownId = "6B05C718000FF";

    public const string DeferredHeaders = "From: bob@example.org\r\nTo: carol@localhost\r\nSubject: hello\r\n";

    /// <summary>Sun Nov 29 21:32:36 2026 UTC.</summary>
    public static readonly DateTimeOffset Arrival = new(2026, 11, 29, 21, 32, 36, TimeSpan.Zero);

    public static readonly DeliveryReply Locked = new(451, "4.2.0", "mailbox /var/mail/carol is locked");

    /// <summary>From bob, 1234 octets: carol deferred twice (mailbox locked), dave pending, alice delivered.</summary>
    public static QueuedMessageView Deferred() => new(
        DeferredId, Arrival, 1234, "bob@example.org", "smtp", "127.0.0.1", "client.test", "bob", "env-1", false,
        Held: false, Active: false,
        [
            new RecipientView(0, "carol@localhost", "rfc822;carol@example.org", "FAILURE", RecipientStatus.Deferred, 2,
                Arrival.AddMinutes(10), Locked,
                [
                    new RecipientEvent(Arrival, RecipientStatus.Pending, null),
                    new RecipientEvent(Arrival.AddSeconds(1), RecipientStatus.Deferred, Locked),
                    new RecipientEvent(Arrival.AddMinutes(5), RecipientStatus.Deferred, Locked),
                ]),
            new RecipientView(1, "dave@localhost", null, null, RecipientStatus.Pending, 0, null, null, []),
            new RecipientView(2, "alice@localhost", null, null, RecipientStatus.Sent, 1, null,
                new DeliveryReply(250, "2.0.0", "delivered to mailbox alice"), []),
        ]);

    /// <summary>Held by an admin, 600 octets, one pending recipient.</summary>
    public static QueuedMessageView Held() => new(
        HeldId, Arrival.AddMinutes(1), 600, "erin@example.org", "sendmail", null, null, null, null, true,
        Held: true, Active: false,
        [new RecipientView(0, "bob@localhost", null, null, RecipientStatus.Pending, 0, null, null, [])]);

    /// <summary>A bounce (null sender) being delivered now.</summary>
    public static QueuedMessageView Bounce() => new(
        BounceId, Arrival.AddMinutes(2), 2100, "", "bounce", null, null, null, null, false,
        Held: false, Active: true,
        [new RecipientView(0, "frank@localhost", null, null, RecipientStatus.Pending, 0, null, null, [])]);

    public static FakeQueueControl Control()
    {
        var control = new FakeQueueControl();
        control.Add(Deferred(), DeferredHeaders);
        control.Add(Held());
        control.Add(Bounce());
        return control;
    }
}
