using System.Diagnostics.Metrics;
using FastSpool.Delivery.Control;
using FastSpool.Delivery.Scheduling;
using FastSpool.Delivery.Tests.Support;
using FastSpool.Delivery.Transport;
using FastSpool.Queue;
using MimeKit;
using MimeKit.Utils;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Delivery.Tests.Scheduling;

/// <summary>The queue manager over a real queue log, with a scripted transport and a fake clock: when it tries,
/// what it records, which notices it sends, and what survives a restart.</summary>
public sealed class QueueManagerTests : IAsyncLifetime
{
    private const string Alice = "alice@example.org";
    private const string UnknownId = "0000000000001";

    private static readonly DateTimeOffset Epoch = SchedulerHarness.Epoch;
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    private readonly SchedulerHarness _h = new();

    public Task InitializeAsync()
    {
        _h.Router.Add("alice");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private static DeliveryResult Locked(int attempt) => DeliveryResult.Temporary("4.2.0", $"mailbox is locked (attempt {attempt})");

    private static DateTimeOffset At(double minutes) => Epoch + TimeSpan.FromMinutes(minutes);

    private void AdvanceTo(DateTimeOffset time)
    {
        Assert.True(time >= _h.Clock.GetUtcNow(), $"the clock is at {_h.Clock.GetUtcNow():O}, past {time:O}");
        _h.Clock.Advance(time - _h.Clock.GetUtcNow());
    }

    private QueuedMessageView View(QueuedMessage message) =>
        _h.Manager.Find(message.Id.ToString()) ?? throw new InvalidOperationException($"{message.Id} is not in the queue");

    private RecipientView Recipient(QueuedMessage message, int index = 0) => View(message).Recipients[index];

    private Task AttemptsAsync(QueuedMessage message, int attempts, int index = 0) =>
        Wait.UntilAsync(() => _h.Manager.Find(message.Id.ToString())?.Recipients[index] is { Attempts: var n, Status: not RecipientStatus.Pending } && n == attempts,
            because: $"{message.Id} recipient {index} to have {attempts} attempts",
            observed: () => _h.Manager.Find(message.Id.ToString())?.Recipients[index] is { } r ? $"{r.Status}, {r.Attempts} attempts" : "not in the queue");

    /// <summary>Starts the manager and submits a message to bob, whose mailbox answers 450 4.2.0 every time;
    /// returns once the first attempt is deferred.</summary>
    private async Task<QueuedMessage> SubmitToLockedMailboxAsync(DsnNotify notify = DsnNotify.None)
    {
        _h.Router.Add("bob");
        _h.Transport.Script("bob", Locked);
        await _h.StartAsync();
        QueuedMessage message = await _h.SubmitAsync(Alice, ["bob@example.org"], notify);
        await AttemptsAsync(message, 1);
        return message;
    }

    /// <summary>Moves the clock to each of <paramref name="minutes"/> in turn, waiting each time for one more
    /// attempt of the message's first recipient.</summary>
    private async Task RetriedAtAsync(QueuedMessage message, params double[] minutes)
    {
        foreach (double minute in minutes)
        {
            int attempts = Recipient(message).Attempts;
            AdvanceTo(At(minute));
            await AttemptsAsync(message, attempts + 1);
        }
    }

    private Task GoneAsync(QueuedMessage message) =>
        Wait.UntilAsync(() => _h.Manager.Find(message.Id.ToString()) is null, because: $"{message.Id} to leave the queue");

    /// <summary>Batches of the tests' own mail, not of the barrier's probes.</summary>
    private int MailBatches() => _h.Transport.Batches.Count(b => b.Destination != "probe");

    /// <summary>Checks that <paramref name="notices"/> is one notice to the sender about <paramref name="message"/>
    /// on one recipient, with that action and status; returns it and the recipient's fields.</summary>
    private static (DeliveredNotice Notice, HeaderList Fields) OnlyNotice(IReadOnlyList<DeliveredNotice> notices, QueuedMessage message,
        string recipient, string action, string status)
    {
        DeliveredNotice notice = Assert.Single(notices);
        Assert.Equal(Alice, notice.Delivery.Address);
        Assert.Equal(Alice, Assert.IsType<MailboxAddress>(Assert.Single(notice.Message.To)).Address);
        Assert.Equal(message.Id.ToString(), notice.OriginalQueueId);
        HeaderList fields = notice.Recipient;
        Assert.Equal("rfc822; " + recipient, fields["Final-Recipient"]);
        Assert.Equal(action, fields["Action"]);
        Assert.Equal(status, fields["Status"]);
        return (notice, fields);
    }

    private static DateTimeOffset Date(string? field)
    {
        Assert.True(DateUtils.TryParse(field, out DateTimeOffset date), $"'{field}' is not a date");
        return date;
    }

    [Fact]
    public async Task ADeferringDestinationIsRetriedAfterDoublingDelaysUpToTheMaximumAndNeverEarly()
    {
        QueuedMessage message = await SubmitToLockedMailboxAsync();
        int[] delays = [5, 10, 20, 40, 67, 67, 67];

        DateTimeOffset attempt = Epoch;
        var attempts = new List<DateTimeOffset> { attempt };
        for (int i = 0; i < delays.Length; i++)
        {
            DateTimeOffset next = attempt + TimeSpan.FromMinutes(delays[i]);
            RecipientView bob = Recipient(message);
            Assert.Equal(RecipientStatus.Deferred, bob.Status);
            Assert.Equal(i + 1, bob.Attempts);
            Assert.Equal(next, bob.NextAttempt);
            Assert.Equal(Locked(i + 1).Reply, bob.LastReply);

            AdvanceTo(next - OneSecond);
            await _h.DrainAsync();
            Assert.Equal(i + 1, _h.Transport.BatchesTo("bob").Count);
            Assert.Equal(i + 1, Recipient(message).Attempts);

            AdvanceTo(next);
            await AttemptsAsync(message, i + 2);
            attempt = next;
            attempts.Add(attempt);
        }
        Assert.Equal(attempts, _h.Transport.BatchesTo("bob").Select(b => b.Time));
        Assert.Equal([At(0), At(5), At(15), At(35), At(75), At(142), At(209), At(276)], attempts);
    }

    [Fact]
    public async Task ARecipientDeferredPastTheLifetimeBouncesWithItsLastReplyInOneNotice()
    {
        _h.Queue.MaxLifetime = TimeSpan.FromHours(2);
        QueuedMessage message = await SubmitToLockedMailboxAsync();

        // Tried at 0, 5, 15, 35 and 75 minutes; the retry after that, at 142, is past the two hours.
        await RetriedAtAsync(message, 5, 15, 35, 75);
        Assert.Equal(At(142), Recipient(message).NextAttempt);
        AdvanceTo(At(142));
        await _h.IdleAsync();

        Assert.Equal(6, _h.Transport.BatchesTo("bob").Count);
        (DeliveredNotice notice, HeaderList bob) = OnlyNotice(_h.Notices(), message, "bob@example.org", "failed", "4.2.0");
        Assert.Equal("Undelivered Mail Returned to Sender", notice.Message.Subject);
        Assert.Equal("X-FastSpool; 450 4.2.0 mailbox is locked (attempt 6)", bob["Diagnostic-Code"]);
        Assert.Equal(At(142), Date(bob["Last-Attempt-Date"]));
        Assert.Equal(0, _h.Manager.Counters().Messages);
        Assert.Null(_h.Manager.Find(message.Id.ToString()));
    }

    [Theory]
    [InlineData(DsnNotify.None, 60, true)]
    [InlineData(DsnNotify.Delay, 60, true)]
    [InlineData(DsnNotify.Failure | DsnNotify.Delay, 60, true)]
    [InlineData(DsnNotify.Never, 60, false)]
    [InlineData(DsnNotify.Failure, 60, false)]
    [InlineData(DsnNotify.Success | DsnNotify.Failure, 60, false)]
    [InlineData(DsnNotify.None, 0, false)]
    public async Task OneDelayNoticeIsSentWhenTheWarningTimeHasPassedHoweverManyRetriesFollow(DsnNotify notify, int warningMinutes, bool expected)
    {
        _h.Queue.DelayWarning = TimeSpan.FromMinutes(warningMinutes);
        QueuedMessage message = await SubmitToLockedMailboxAsync(notify);

        // Tried at 0, 5, 15 and 35 minutes: not late enough for a warning.
        await RetriedAtAsync(message, 5, 15, 35);
        await _h.DrainAsync();
        Assert.Empty(_h.NoticesAbout(message.Id));

        // At 60 minutes it is still deferred (its next attempt is at 75): the warning goes out then, not at 75.
        AdvanceTo(At(60) - OneSecond);
        await _h.DrainAsync();
        Assert.Empty(_h.NoticesAbout(message.Id));
        AdvanceTo(At(60));
        if (expected)
            await Wait.UntilAsync(() => _h.NoticesAbout(message.Id).Count == 1, because: "the delay notice at the warning time");
        await _h.DrainAsync();
        Assert.Equal(expected ? 1 : 0, _h.NoticesAbout(message.Id).Count);
        Assert.Equal(4, Recipient(message).Attempts);

        await RetriedAtAsync(message, 75, 142, 209, 276);
        await _h.DrainAsync();
        IReadOnlyList<DeliveredNotice> notices = _h.NoticesAbout(message.Id);
        Assert.Equal(expected ? 1 : 0, notices.Count);
        if (!expected)
            return;
        (DeliveredNotice notice, HeaderList bob) = OnlyNotice(notices, message, "bob@example.org", "delayed", "4.2.0");
        Assert.Equal("Delayed Mail (still being retried)", notice.Message.Subject);
        Assert.Equal("X-FastSpool; 450 4.2.0 mailbox is locked (attempt 4)", bob["Diagnostic-Code"]);
        Assert.Equal(At(35), Date(bob["Last-Attempt-Date"]));
        Assert.Equal(Epoch + _h.Queue.MaxLifetime, Date(bob["Will-Retry-Until"]));
        Assert.Equal(RecipientStatus.Deferred, Recipient(message).Status);
    }

    [Fact]
    public async Task ADelayNoticeIsNotSentAgainAfterARestart()
    {
        _h.Queue.DelayWarning = TimeSpan.FromHours(1);
        QueuedMessage message = await SubmitToLockedMailboxAsync();
        await RetriedAtAsync(message, 5, 15, 35, 75);
        await _h.DrainAsync();
        Assert.Single(_h.NoticesAbout(message.Id));

        await _h.RestartAsync();
        Assert.True(Assert.Single(_h.Recovered.Messages).DelayWarned);
        await _h.DrainAsync(); // the recovered message is waiting for its retry before the clock moves
        await RetriedAtAsync(message, 142, 209);
        await _h.DrainAsync();
        Assert.Single(_h.NoticesAbout(message.Id));
    }

    [Fact]
    public async Task AHeldMessageIsNotTriedUntilReleased()
    {
        _h.Router.Add("bob");
        _h.Transport.Script("bob", n => n == 1 ? Locked(n) : DeliveryResult.Sent("ok"));
        await _h.StartAsync();
        QueuedMessage message = await _h.SubmitAsync(Alice, ["bob@example.org"]);
        await AttemptsAsync(message, 1);

        ControlResult held = await _h.Manager.HoldAsync([message.Id.ToString()], "test");
        Assert.Equal([message.Id.ToString()], held.Done);
        Assert.Empty(held.Unknown);
        Assert.True(View(message).Held);
        Assert.Equal(1, _h.Manager.Counters().HeldMessages);

        AdvanceTo(At(5));
        await _h.DrainAsync();
        AdvanceTo(At(30));
        await _h.DrainAsync();
        Assert.Single(_h.Transport.BatchesTo("bob"));
        RecipientView bob = Recipient(message);
        Assert.Equal(RecipientStatus.Deferred, bob.Status);
        Assert.Equal(1, bob.Attempts);

        ControlResult released = await _h.Manager.ReleaseAsync([message.Id.ToString()], "test");
        Assert.Equal([message.Id.ToString()], released.Done);
        await GoneAsync(message);
        Assert.Equal([At(0), At(30)], _h.Transport.BatchesTo("bob").Select(b => b.Time));
        Assert.Empty(_h.NoticesAbout(message.Id));
    }

    [Fact]
    public async Task RequeueTriesAtOnceAndStartsTheBackoffAgain()
    {
        QueuedMessage message = await SubmitToLockedMailboxAsync();
        await RetriedAtAsync(message, 5, 15);
        Assert.Equal(At(35), Recipient(message).NextAttempt);

        AdvanceTo(At(16));
        ControlResult requeued = await _h.Manager.RequeueAsync([message.Id.ToString()], "test");
        Assert.Equal([message.Id.ToString()], requeued.Done);
        Assert.Empty(requeued.Unknown);
        await Wait.UntilAsync(() => _h.Transport.BatchesTo("bob").Count == 4, because: "the requeued message to be tried");
        await AttemptsAsync(message, 1);

        // Tried at once, then 5 and 10 minutes later: the backoff starts again, at the mailbox too.
        Assert.Equal(At(16), _h.Transport.BatchesTo("bob")[3].Time);
        RecipientView bob = Recipient(message);
        Assert.Equal(RecipientStatus.Deferred, bob.Status);
        Assert.Equal(At(21), bob.NextAttempt);
        Assert.Equal(Locked(4).Reply, bob.LastReply);
        await RetriedAtAsync(message, 21);
        Assert.Equal(At(31), Recipient(message).NextAttempt);
    }

    [Fact]
    public async Task ARequeueIsKeptAcrossARestart()
    {
        QueuedMessage message = await SubmitToLockedMailboxAsync();
        await RetriedAtAsync(message, 5, 15);
        Assert.Equal(3, Recipient(message).Attempts);
        _h.Transport.Gate("bob"); // the attempt the requeue starts does not end before the restart

        AdvanceTo(At(16));
        await _h.Manager.RequeueAsync([message.Id.ToString()], "test");
        await Wait.UntilAsync(() => _h.Transport.WaitingAt("bob") == 1, because: "the requeued message to be tried");
        await _h.RestartAsync();

        QueuedRecipient bob = Assert.Single(Assert.Single(_h.Recovered.Messages, m => m.Id == message.Id).Recipients);
        Assert.Equal(0, bob.Attempts);
        Assert.Equal(At(16), bob.NextAttempt);
    }

    [Fact]
    public async Task DeleteRemovesTheMessageForGood()
    {
        QueuedMessage message = await SubmitToLockedMailboxAsync();

        ControlResult deleted = await _h.Manager.DeleteAsync([message.Id.ToString(), UnknownId], bounce: false, "test");
        Assert.Equal([message.Id.ToString()], deleted.Done);
        Assert.Equal([UnknownId], deleted.Unknown);
        Assert.Null(_h.Manager.Find(message.Id.ToString()));
        Assert.Equal(0, _h.Manager.Counters().Messages);

        AdvanceTo(At(10));
        await _h.DrainAsync();
        Assert.Single(_h.Transport.BatchesTo("bob"));
        Assert.Empty(_h.NoticesAbout(message.Id));

        await _h.RestartAsync();
        Assert.DoesNotContain(_h.Recovered.Messages, m => m.Id == message.Id);
        Assert.Null(_h.Manager.Find(message.Id.ToString()));
    }

    [Fact]
    public async Task DeletingAMessageWhileATransportReadsItLeavesTheBodyItReadIntact()
    {
        _h.Router.Add("slow", "fast");
        TaskCompletionSource gate = _h.Transport.Gate("slow");
        await _h.StartAsync();
        QueuedMessage deleted = await _h.SubmitAsync(Alice, ["slow@example.org"]);
        await Wait.UntilAsync(() => _h.Transport.WaitingAt("slow") == 1, because: "the transport to have read the body");

        Assert.Equal([deleted.Id.ToString()], (await _h.Manager.DeleteAsync([deleted.Id.ToString()], bounce: false, "test")).Done);
        // The next message is kept in memory too, in a buffer of the same size.
        QueuedMessage next = await _h.SubmitAsync(Alice, ["fast@example.org"]);
        gate.SetResult();
        await GoneAsync(next);

        FakeDelivery slow = Assert.Single(Assert.Single(_h.Transport.BatchesTo("slow")).Items);
        FakeDelivery fast = Assert.Single(Assert.Single(_h.Transport.BatchesTo("fast")).Items);
        Assert.Contains($"Body of {deleted.Id}.", System.Text.Encoding.ASCII.GetString(slow.Body), StringComparison.Ordinal);
        Assert.Contains($"Body of {next.Id}.", System.Text.Encoding.ASCII.GetString(fast.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteWithBounceNotifiesTheSenderOfTheRecipientsNotYetDone()
    {
        _h.Router.Add("bob", "carol");
        _h.Transport.Script("bob", Locked);
        await _h.StartAsync();
        QueuedMessage message = await _h.SubmitAsync(Alice, ["carol@example.org", "bob@example.org"]);
        await AttemptsAsync(message, 1, index: 1);
        Assert.Equal(RecipientStatus.Sent, Recipient(message, 0).Status);

        ControlResult deleted = await _h.Manager.DeleteAsync([message.Id.ToString(), UnknownId], bounce: true, "test");
        Assert.Equal([message.Id.ToString()], deleted.Done);
        Assert.Equal([UnknownId], deleted.Unknown);
        await _h.IdleAsync();

        (_, HeaderList bob) = OnlyNotice(_h.Notices(), message, "bob@example.org", "failed", "5.0.0");
        Assert.Equal("X-FastSpool; 550 5.0.0 message deleted from the queue by the administrator (test)", bob["Diagnostic-Code"]);
        Assert.Single(_h.Transport.BatchesTo("bob"));
        Assert.Single(_h.Transport.BatchesTo("carol"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task DeleteWithBounceWaitsForTheAttemptUnderWay(bool delivered)
    {
        _h.Router.Add("bob");
        if (!delivered)
            _h.Transport.Script("bob", Locked);
        TaskCompletionSource gate = _h.Transport.Gate("bob");
        await _h.StartAsync();
        QueuedMessage message = await _h.SubmitAsync(Alice, ["bob@example.org"]);
        await Wait.UntilAsync(() => _h.Transport.WaitingAt("bob") == 1, because: "the attempt to be under way");

        ControlResult deleted = await _h.Manager.DeleteAsync([message.Id.ToString()], bounce: true, "test");
        Assert.Equal([message.Id.ToString()], deleted.Done);
        Assert.Equal(RecipientStatus.Pending, Recipient(message).Status);
        gate.SetResult();
        await GoneAsync(message);
        await _h.IdleAsync();

        Assert.Single(_h.Transport.BatchesTo("bob"));
        if (delivered)
        {
            // The mailbox has it: no notice says it failed.
            Assert.Empty(_h.NoticesAbout(message.Id));
        }
        else
        {
            (_, HeaderList bob) = OnlyNotice(_h.Notices(), message, "bob@example.org", "failed", "5.0.0");
            Assert.Equal("X-FastSpool; 550 5.0.0 message deleted from the queue by the administrator (test)", bob["Diagnostic-Code"]);
        }
    }

    [Fact]
    public async Task ControlVerbsListIdsTheQueueDoesNotHold()
    {
        await _h.StartAsync();
        string[] ids = [UnknownId, "not-an-id"];

        ControlResult[] results =
        [
            await _h.Manager.FlushAsync(ids, "test"),
            await _h.Manager.HoldAsync(ids, "test"),
            await _h.Manager.ReleaseAsync(ids, "test"),
            await _h.Manager.RequeueAsync(ids, "test"),
            await _h.Manager.DeleteAsync(ids, bounce: false, "test"),
            await _h.Manager.DeleteAsync(ids, bounce: true, "test"),
        ];

        Assert.All(results, r =>
        {
            Assert.Empty(r.Done);
            Assert.Equal(ids, r.Unknown);
        });
        Assert.Null(_h.Manager.Find(UnknownId));
    }

    [Fact]
    public async Task MixedOutcomesGiveOneNoticeForTheBouncedRecipientOnly()
    {
        _h.Router.Add("carol", "dave");
        _h.Transport.Script("dave", n => n == 1 ? DeliveryResult.Temporary("4.2.0", "mailbox is locked") : DeliveryResult.Sent("ok"));
        await _h.StartAsync();
        QueuedMessage message = await _h.SubmitAsync(Alice, ["carol@example.org", "dave@example.org", "erin@example.org"],
            originalRecipients: [null, null, "rfc822;erin@example.org"]);

        await Wait.UntilAsync(() => _h.Notices().Count == 1, because: "the failure notice");
        QueuedMessageView view = View(message);
        Assert.Equal([RecipientStatus.Sent, RecipientStatus.Deferred, RecipientStatus.Bounced], view.Recipients.Select(r => r.Status));
        Assert.Equal(new DeliveryReply(450, "4.2.0", "mailbox is locked"), view.Recipients[1].LastReply);
        Assert.Equal(At(5), view.Recipients[1].NextAttempt);

        (DeliveredNotice notice, HeaderList erin) = OnlyNotice(_h.Notices(), message, "erin@example.org", "failed", "5.1.1");
        HeaderList fields = notice.PerMessage;
        Assert.Equal("dns; " + SchedulerHarness.Hostname, fields["Reporting-MTA"]);
        Assert.Equal(message.Id.ToString(), fields["X-FastSpool-Queue-ID"]);
        Assert.Equal(Epoch, Date(fields["Arrival-Date"]));
        Assert.Equal("dns; [192.0.2.7]", fields["Received-From-MTA"]);
        Assert.Equal("rfc822; " + Alice, fields["X-FastSpool-Sender"]);
        Assert.Equal("rfc822;erin@example.org", erin["Original-Recipient"]);
        Assert.Equal("X-FastSpool; 550 5.1.1 <erin@example.org>: Recipient address rejected: User unknown", erin["Diagnostic-Code"]);
        Assert.Equal(Epoch, Date(erin["Last-Attempt-Date"]));

        AdvanceTo(At(5));
        await _h.IdleAsync();
        Assert.Single(_h.Notices());
        Assert.Single(_h.Transport.BatchesTo("carol"));
        Assert.Equal([At(0), At(5)], _h.Transport.BatchesTo("dave").Select(b => b.Time));
        Assert.Equal(2, _h.Accepted.Count);
    }

    [Fact]
    public async Task NotifySuccessGetsADeliveredNotice()
    {
        _h.Router.Add("bob");
        await _h.StartAsync();
        QueuedMessage message = await _h.SubmitAsync(Alice, ["bob@example.org"], DsnNotify.Success);
        await _h.IdleAsync();

        OnlyNotice(_h.Notices(), message, "bob@example.org", "delivered", "2.0.0");
        Assert.Equal(2, _h.Accepted.Count);
    }

    [Fact]
    public async Task NotifySuccessSentOnToAServerWithoutDsnGetsARelayedNotice()
    {
        _h.Router.Add("bob");
        _h.Transport.Script("bob", _ => new DeliveryResult(DeliveryResultKind.Sent, new DeliveryReply(250, "2.0.0", "Ok: queued as F00D", "smarthost.test[192.0.2.1]:587")));
        await _h.StartAsync();
        QueuedMessage message = await _h.SubmitAsync(Alice, ["bob@example.org"], DsnNotify.Success);
        await _h.IdleAsync();

        (_, HeaderList fields) = OnlyNotice(_h.Notices(), message, "bob@example.org", "relayed", "2.0.0");
        Assert.Equal("dns; smarthost.test", fields["Remote-MTA"]);
    }

    [Fact]
    public async Task NotifySuccessPassedOnToTheNextServerGetsNoNoticeFromUs()
    {
        _h.Router.Add("bob");
        _h.Transport.Script("bob", _ => new DeliveryResult(DeliveryResultKind.Sent, new DeliveryReply(250, "2.0.0", "Ok", "smarthost.test[192.0.2.1]:587"), NotificationsPassedOn: true));
        await _h.StartAsync();
        await _h.SubmitAsync(Alice, ["bob@example.org"], DsnNotify.Success);
        await _h.IdleAsync();

        Assert.Empty(_h.Notices());
    }

    [Fact]
    public async Task NotifyNeverBouncesWithoutANotice()
    {
        _h.Router.Add("bob");
        _h.Transport.Script("bob", _ => DeliveryResult.Permanent("5.2.1", "mailbox disabled"));
        await _h.StartAsync();
        QueuedMessage message = await _h.SubmitAsync(Alice, ["bob@example.org"], DsnNotify.Never);
        await _h.IdleAsync();

        Assert.Empty(_h.Notices());
        Assert.Equal([message.Id], _h.Accepted.Select(m => m.Id));
        FakeDelivery delivery = Assert.Single(_h.Transport.Deliveries);
        Assert.Equal(message.Id, delivery.Id);
    }

    [Fact]
    public async Task ABounceOfNullSenderMailGoesToThePostmaster()
    {
        _h.Router.Add("postmaster");
        await _h.StartAsync();
        QueuedMessage message = await _h.SubmitAsync("", ["erin@example.org"]);
        await _h.IdleAsync();

        DeliveredNotice notice = Assert.Single(_h.Notices());
        Assert.Equal("postmaster", notice.Delivery.Address);
        Assert.True(notice.Delivery.DoubleBounce);
        Assert.Equal(message.Id.ToString(), notice.OriginalQueueId);
        Assert.Null(notice.PerMessage["X-FastSpool-Sender"]);
        Assert.Equal("5.1.1", notice.Recipient["Status"]);
        Assert.Equal(2, _h.Accepted.Count);
        Assert.True(_h.Accepted[1].DoubleBounce);
    }

    [Fact]
    public async Task APostmasterNoticeThatBouncesIsDropped()
    {
        _h.Router.Add("postmaster");
        _h.Transport.Script("postmaster", _ => DeliveryResult.Permanent("5.2.2", "mailbox full"));
        await _h.StartAsync();
        QueuedMessage message = await _h.SubmitAsync("", ["erin@example.org"]);
        await _h.IdleAsync();

        Assert.Equal(2, _h.Accepted.Count);
        Assert.Equal(message.Id, _h.Accepted[0].Id);
        QueuedMessage notice = _h.Accepted[1];
        Assert.True(notice.DoubleBounce);
        Assert.Equal("", notice.Sender);
        FakeDelivery delivery = Assert.Single(_h.Transport.Deliveries);
        Assert.Equal(notice.Id, delivery.Id);
        Assert.Equal("postmaster", delivery.Address);
        Assert.Equal(0, _h.Manager.Counters().Messages);
    }

    [Fact]
    public async Task ARestartRecoversEveryRecipientsStateExactly()
    {
        _h.Router.Add("bob", "carol", "dave", "frank");
        _h.Transport.Script("bob", n => n <= 2 ? Locked(n) : DeliveryResult.Sent("ok"));
        _h.Transport.Script("carol", n => n == 1 ? Locked(n) : DeliveryResult.Sent("ok"));
        _h.Transport.Script("frank", n => n == 1 ? Locked(n) : DeliveryResult.Sent("ok"));
        await _h.StartAsync();

        // Deferred twice: until 15 minutes.
        QueuedMessage deferred = await _h.SubmitAsync(Alice, ["bob@example.org"]);
        await AttemptsAsync(deferred, 1);
        await RetriedAtAsync(deferred, 5);
        // Deferred until 10 minutes, then held.
        QueuedMessage held = await _h.SubmitAsync(Alice, ["carol@example.org"]);
        await AttemptsAsync(held, 1);
        await _h.Manager.HoldAsync([held.Id.ToString()], "test");
        // Sent, bounced and notified, deferred until 10 minutes.
        QueuedMessage mixed = await _h.SubmitAsync(Alice, ["dave@example.org", "erin@example.org", "frank@example.org"]);
        await AttemptsAsync(mixed, 1, index: 2);
        await _h.DrainAsync();
        Assert.Single(_h.NoticesAbout(mixed.Id));

        await _h.RestartAsync();

        Assert.Equal([deferred.Id, held.Id, mixed.Id], _h.Recovered.Messages.Select(m => m.Id));
        Assert.Equal(0, _h.Recovered.DamagedRecords);
        QueuedRecipient bob = _h.Recovered.Messages[0].Recipients[0];
        Assert.Equal(RecipientStatus.Deferred, bob.Status);
        Assert.Equal(2, bob.Attempts);
        Assert.Equal(At(15), bob.NextAttempt);
        Assert.Equal(Locked(2).Reply, bob.LastReply);
        Assert.True(_h.Recovered.Messages[1].Held);
        QueuedRecipient carol = _h.Recovered.Messages[1].Recipients[0];
        Assert.Equal((RecipientStatus.Deferred, 1, At(10)), (carol.Status, carol.Attempts, carol.NextAttempt));
        QueuedRecipient[] m = _h.Recovered.Messages[2].Recipients;
        Assert.Equal([RecipientStatus.Sent, RecipientStatus.Bounced, RecipientStatus.Deferred], m.Select(r => r.Status));
        Assert.Equal(DsnNotify.Failure, m[1].Notified & DsnNotify.Failure);
        Assert.Equal(new DeliveryReply(550, "5.1.1", "<erin@example.org>: Recipient address rejected: User unknown"), m[1].LastReply);
        Assert.Equal((1, At(10)), (m[2].Attempts, m[2].NextAttempt));
        Assert.Equal(Locked(1).Reply, m[2].LastReply);
        RecipientView shown = Recipient(deferred);
        Assert.Equal((RecipientStatus.Deferred, 2, At(15)), (shown.Status, shown.Attempts, shown.NextAttempt));
        Assert.True(View(held).Held);

        // Nothing is due yet at 5 minutes, nor just before 10.
        int batches = MailBatches();
        await _h.DrainAsync();
        AdvanceTo(At(10) - OneSecond);
        await _h.DrainAsync();
        Assert.Equal(batches, MailBatches());

        // At 10 the mixed message's deferred recipient is tried (only it); the held message stays.
        AdvanceTo(At(10));
        await GoneAsync(mixed);
        await _h.DrainAsync();
        Assert.Equal(2, _h.Transport.BatchesTo("frank").Count);
        Assert.Single(_h.Transport.BatchesTo("dave"));
        Assert.Single(_h.Transport.BatchesTo("carol"));
        Assert.Single(_h.NoticesAbout(mixed.Id));
        Assert.Equal(2, _h.Transport.BatchesTo("bob").Count);
        Assert.True(View(held).Held);

        AdvanceTo(At(15) - OneSecond);
        await _h.DrainAsync();
        Assert.Equal(2, _h.Transport.BatchesTo("bob").Count);
        AdvanceTo(At(15));
        await GoneAsync(deferred);
        Assert.Equal([At(0), At(5), At(15)], _h.Transport.BatchesTo("bob").Select(b => b.Time));

        await _h.Manager.ReleaseAsync([held.Id.ToString()], "test");
        await _h.IdleAsync();
        Assert.Equal([At(5), At(15)], _h.Transport.BatchesTo("carol").Select(b => b.Time));
    }

    [Fact]
    public async Task MailDeferredBecauseItsDestinationIsSuspendedWasNotTried()
    {
        QueuedMessage first = await SubmitToLockedMailboxAsync();
        AdvanceTo(At(1));
        QueuedMessage second = await _h.SubmitAsync(Alice, ["bob@example.org"]);

        // bob's mailbox failed a minute ago: the new message waits for its retry time without an attempt.
        await AttemptsAsync(second, 0);
        Assert.Equal((RecipientStatus.Deferred, At(5)), (Recipient(second).Status, Recipient(second).NextAttempt));
        Assert.Single(_h.Transport.BatchesTo("bob"));

        AdvanceTo(At(5));
        await AttemptsAsync(second, 1);
        Assert.Equal(2, Recipient(first).Attempts);
        Assert.Equal(2, _h.Transport.BatchesTo("bob").Count);
    }

    [Fact]
    public async Task ARestartDoesNotStartTheBackoffAgain()
    {
        QueuedMessage message = await SubmitToLockedMailboxAsync();
        await RetriedAtAsync(message, 5, 15, 35, 75);

        await _h.RestartAsync();
        Assert.Equal((5, At(142)), (Recipient(message).Attempts, Recipient(message).NextAttempt));
        // The recovered message is waiting for its retry (its timer set) before the clock moves.
        await _h.DrainAsync();
        await RetriedAtAsync(message, 142);

        // The sixth failure waits the longest delay, as it would have without the restart.
        Assert.Equal(At(209), Recipient(message).NextAttempt);
        AdvanceTo(At(209) - OneSecond);
        await _h.DrainAsync();
        Assert.Equal(6, _h.Transport.BatchesTo("bob").Count);
    }

    [Fact]
    public async Task APartDoneForAnAliasIsNotRepeatedOnRetryNorAfterARestart()
    {
        _h.Router.Alias("team", "frank", "grace");
        _h.Transport.Script("grace", n => n <= 2 ? Locked(n) : DeliveryResult.Sent("ok"));
        await _h.StartAsync();
        QueuedMessage message = await _h.SubmitAsync(Alice, ["team@example.org"]);
        await AttemptsAsync(message, 1);
        Assert.Equal(RecipientStatus.Deferred, Recipient(message).Status);

        await RetriedAtAsync(message, 5);
        Assert.Single(_h.Transport.BatchesTo("frank"));
        Assert.Equal(2, _h.Transport.BatchesTo("grace").Count);

        await _h.RestartAsync();
        QueuedRecipient team = Assert.Single(Assert.Single(_h.Recovered.Messages).Recipients);
        Assert.Equal(["frank"], team.PartsDone);
        Assert.Equal((RecipientStatus.Deferred, 2, At(15)), (team.Status, team.Attempts, team.NextAttempt));

        AdvanceTo(At(15));
        await _h.IdleAsync();
        Assert.Single(_h.Transport.BatchesTo("frank"));
        Assert.Equal([At(0), At(5), At(15)], _h.Transport.BatchesTo("grace").Select(b => b.Time));
        Assert.Empty(_h.Notices());
    }

    [Fact]
    public async Task TheQueueGaugesShowTheCounters()
    {
        _h.Delivery.Concurrency = 2;
        _h.Router.Add("bob", "carol", "slow");
        // bob fails once; the second message's bob is deferred without a try while bob's mailbox is suspended.
        _h.Transport.Script("bob", n => n == 1 ? Locked(n) : DeliveryResult.Sent("ok"));
        _h.Transport.Script("carol", n => n == 1 ? Locked(n) : DeliveryResult.Sent("ok"));
        TaskCompletionSource gate = _h.Transport.Gate("slow");
        await _h.StartAsync();
        using var listener = new MeterListener();
        var values = new SortedDictionary<string, double>(StringComparer.Ordinal);
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This harness's manager only: other tests running meanwhile have queue managers of their own.
            if (instrument.Meter.Name == QueueManager.MeterName && _h.Meters.Owns(instrument.Meter))
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => values[instrument.Name] = value);
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => values[instrument.Name] = value);
        listener.Start();
        SortedDictionary<string, double> Observe()
        {
            values.Clear();
            listener.RecordObservableInstruments();
            return new SortedDictionary<string, double>(values, StringComparer.Ordinal);
        }

        QueuedMessage deferred = await _h.SubmitAsync(Alice, ["bob@example.org"]);
        await AttemptsAsync(deferred, 1);
        AdvanceTo(At(2));
        QueuedMessage held = await _h.SubmitAsync(Alice, ["carol@example.org"]);
        await AttemptsAsync(held, 1);
        await _h.Manager.HoldAsync([held.Id.ToString()], "test");
        await _h.SubmitAsync(Alice, ["slow@example.org", "bob@example.org"]);
        await Wait.UntilAsync(() => _h.Transport.WaitingAt("slow") == 1 && _h.Manager.Counters().DeferredRecipients == 3);
        // Three messages, one held, one being delivered (its recipient "slow" still pending), three deferred
        // recipients; the oldest came two minutes ago.
        Assert.Equal(Gauges(messages: 3, held: 1, active: 1, pending: 1, deferred: 3, oldestAge: 120), Observe());

        gate.SetResult();
        await Wait.UntilAsync(() => _h.Manager.Counters() is { ActiveMessages: 0, PendingRecipients: 0 });
        AdvanceTo(At(3));
        Assert.Equal(Gauges(messages: 3, held: 1, active: 0, pending: 0, deferred: 3, oldestAge: 180), Observe());

        await _h.Manager.ReleaseAsync([held.Id.ToString()], "test");
        await _h.Manager.FlushAsync([], "test");
        await _h.IdleAsync();
        Assert.Equal(Gauges(messages: 0, held: 0, active: 0, pending: 0, deferred: 0, oldestAge: 0), Observe());
    }

    [Fact]
    public async Task DeliveriesAreCountedByOutcomeAndTransportOncePerStatusLine()
    {
        _h.Router.Add("bob", "carol");
        _h.Transport.Script("bob", n => n == 1 ? Locked(n) : DeliveryResult.Sent("ok"));
        _h.Transport.Script("carol", _ => DeliveryResult.Permanent("5.2.1", "mailbox disabled"));
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (_h.Meters.Owns(instrument.Meter) && instrument.Name == "fastspool.deliveries")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string key = string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"));
            lock (counts)
                counts[key] = counts.GetValueOrDefault(key) + value;
        });
        listener.Start();
        await _h.StartAsync();

        QueuedMessage bob = await _h.SubmitAsync(Alice, ["bob@example.org"]);
        await AttemptsAsync(bob, 1);
        QueuedMessage carol = await _h.SubmitAsync(Alice, ["carol@example.org"], DsnNotify.Never);
        await GoneAsync(carol);
        AdvanceTo(At(10)); // past bob's retry time: the second attempt delivers, and the message is finished
        await GoneAsync(bob);

        string transport = _h.Transport.Name;
        lock (counts)
        {
            Assert.Equal(new SortedDictionary<string, long>(StringComparer.Ordinal)
            {
                [$"outcome=bounced,transport={transport}"] = 1,
                [$"outcome=deferred,transport={transport}"] = 1,
                [$"outcome=sent,transport={transport}"] = 1,
            }, counts);
        }
    }

    private static SortedDictionary<string, double> Gauges(int messages, int held, int active, int pending, int deferred, double oldestAge) =>
        new(StringComparer.Ordinal)
        {
            ["fastspool.queue.messages"] = messages,
            ["fastspool.queue.messages.held"] = held,
            ["fastspool.queue.messages.active"] = active,
            ["fastspool.queue.recipients.pending"] = pending,
            ["fastspool.queue.recipients.deferred"] = deferred,
            ["fastspool.queue.oldest_age"] = oldestAge,
        };
}
