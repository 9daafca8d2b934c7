using System.Text;
using System.Threading.Channels;
using FastSpool.Delivery.Bounces;
using FastSpool.Logging;
using FastSpool.Queue;
using Microsoft.Extensions.Logging;
using MimeKit;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Delivery.Scheduling;

/// <summary>Delivery status notifications (RFC 3464): one failure notice per message listing every bounced
/// recipient, a success notice for NOTIFY=SUCCESS, and at most one delay notice. A notice is a message like any
/// other, submitted through the queue with the null sender; its envelope names the recipients it reports on, so
/// a crash never sends it twice. Never a bounce of a bounce: a failure of null-sender mail goes to the postmaster
/// once, and a failure of that is logged and dropped.</summary>
public sealed partial class QueueManager
{
    private readonly NoticeOptions _noticeOptions;
    private readonly Channel<Tracked> _noticeQueue = Channel.CreateUnbounded<Tracked>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Whether the message owes its sender a notice now (under the lock). Recipients whose NOTIFY turns a
    /// notice down are marked as if it had been sent.</summary>
    private bool NeedsNotice(Tracked tracked) => PlanNotice(tracked, _time.GetUtcNow()) is not null;

    private NoticePlan? PlanNotice(Tracked tracked, DateTimeOffset now)
    {
        QueuedMessage message = tracked.Message;
        bool nullSender = message.Sender.Length == 0;
        List<int>? failed = null, delivered = null, delayed = null;
        for (int r = 0; r < message.Recipients.Length; r++)
        {
            QueuedRecipient recipient = message.Recipients[r];
            if (recipient.Status == RecipientStatus.Bounced && (recipient.Notified & DsnNotify.Failure) == 0)
            {
                if (nullSender || recipient.Wants(DsnNotify.Failure))
                    (failed ??= []).Add(r);
                else
                    recipient.Notified |= DsnNotify.Failure;
            }
            else if (recipient.Status == RecipientStatus.Sent && (recipient.Notified & DsnNotify.Success) == 0
                && !nullSender && recipient.Notify != DsnNotify.None && recipient.Wants(DsnNotify.Success))
            {
                (delivered ??= []).Add(r);
            }
            else if (recipient.Status == RecipientStatus.Deferred && !nullSender && !message.DelayWarned
                && _queueOptions.DelayWarning > TimeSpan.Zero && now - message.Arrival >= _queueOptions.DelayWarning
                && recipient.Wants(DsnNotify.Delay))
            {
                (delayed ??= []).Add(r);
            }
        }
        if (failed is not null)
            return new NoticePlan(DeliveryReportKind.Failure, [.. failed]);
        if (delivered is not null)
            return new NoticePlan(DeliveryReportKind.Success, [.. delivered]);
        if (delayed is not null)
            return new NoticePlan(DeliveryReportKind.Delay, [.. delayed]);
        return null;
    }

    private sealed record NoticePlan(DeliveryReportKind Kind, int[] Recipients);

    private async Task NoticeLoopAsync()
    {
        try
        {
            await foreach (Tracked tracked in _noticeQueue.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                bool failed = false;
                try
                {
                    await SendNoticesAsync(tracked).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failed = true;
                    _log.LogError("{Id}: cannot send a delivery status notification now ({Reason}); trying again in {Retry}s",
                        tracked.Message.Id, e.Message, (long)_delivery.RetryDelay.TotalSeconds);
                }
                lock (_lock)
                {
                    tracked.NoticeQueued = false;
                    if (failed)
                        Wait(tracked, _time.GetUtcNow() + _delivery.RetryDelay);
                    else
                        Settle(tracked);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task SendNoticesAsync(Tracked tracked)
    {
        QueuedMessage message = tracked.Message;
        while (true)
        {
            NoticePlan? plan;
            DateTimeOffset now = _time.GetUtcNow();
            lock (_lock)
            {
                if (message.Removed)
                    return;
                plan = PlanNotice(tracked, now);
            }
            if (plan is null)
                return;

            bool nullSender = message.Sender.Length == 0;
            if (nullSender && message.DoubleBounce)
            {
                lock (_lock)
                {
                    MarkNotified(message, plan);
                    _log.Line(LogLevel.Warning, $"{message.Id}: undeliverable postmaster notification discarded");
                }
                continue;
            }
            string to = nullSender ? _noticeOptions.Postmaster : message.Sender;
            DsnRequest request;
            lock (_lock)
                request = BuildRequest(message, plan, to, now);
            byte[] text;
            using (MessageBody body = await _queue.ReadBodyAsync(message, _stop.Token).ConfigureAwait(false))
            {
                using var original = new MemoryStream(checked((int)body.Content.Length));
                foreach (ReadOnlyMemory<byte> segment in body.Content)
                    original.Write(segment.Span);
                original.Position = 0;
                MimeMessage dsn = DsnBuilder.Build(request, original);
                text = DsnBuilder.Render(dsn);
            }
            QueuedMessage notice = await SubmitNoticeAsync(text, to, new DeliveryReport(message.Id, plan.Kind, plan.Recipients), doubleBounce: nullSender, now).ConfigureAwait(false);
            lock (_lock)
            {
                MarkNotified(message, plan);
                string what = plan.Kind switch
                {
                    DeliveryReportKind.Failure => nullSender ? "postmaster non-delivery notification" : "sender non-delivery notification",
                    DeliveryReportKind.Delay => "sender delay notification",
                    _ => "sender delivery status notification",
                };
                _log.Line(LogLevel.Information, $"{message.Id}: {what}: {notice.Id}");
            }
        }
    }

    private static void MarkNotified(QueuedMessage message, NoticePlan plan)
    {
        if (plan.Kind == DeliveryReportKind.Delay)
        {
            message.DelayWarned = true;
            return;
        }
        DsnNotify kind = plan.Kind == DeliveryReportKind.Success ? DsnNotify.Success : DsnNotify.Failure;
        foreach (int r in plan.Recipients)
            message.Recipients[r].Notified |= kind;
    }

    private DsnRequest BuildRequest(QueuedMessage message, NoticePlan plan, string to, DateTimeOffset now)
    {
        var recipients = new List<DsnRecipient>(plan.Recipients.Length);
        foreach (int r in plan.Recipients)
        {
            QueuedRecipient recipient = message.Recipients[r];
            DeliveryReply reply = recipient.LastReply ?? new DeliveryReply(250, "2.0.0", "delivered");
            IReadOnlyList<RecipientEvent> history = recipient.History;
            recipients.Add(new DsnRecipient
            {
                FinalRecipient = recipient.Address,
                OriginalRecipient = recipient.OriginalRecipient,
                Action = plan.Kind switch
                {
                    DeliveryReportKind.Failure => DsnAction.Failed,
                    DeliveryReportKind.Delay => DsnAction.Delayed,
                    _ => reply.RemoteHost is null ? DsnAction.Delivered : DsnAction.Relayed,
                },
                Status = reply.EnhancedStatus,
                DiagnosticCode = $"{reply.Code} {reply.EnhancedStatus} {reply.Text}",
                RemoteMta = reply.FromHost ? reply.RemoteHostName() : null,
                LastAttempt = history.Count > 0 ? history[^1].Time : now,
                WillRetryUntil = plan.Kind == DeliveryReportKind.Delay ? message.Arrival + _queueOptions.MaxLifetime : null,
                HumanReason = reply.Text,
            });
        }
        return new DsnRequest
        {
            ReportingMta = _noticeOptions.Hostname,
            OriginalQueueId = message.Id.ToString(),
            ArrivalDate = message.Arrival,
            EnvelopeId = message.EnvelopeId,
            OriginalSender = message.Sender,
            ReceivedFromMta = message.ClientAddress.Length > 0 ? message.ClientAddress : null,
            ReturnFullMessage = message.Return == DsnReturn.Full,
            Date = now,
            Recipients = recipients,
            Postmaster = _noticeOptions.Postmaster,
            DelayedFor = plan.Kind == DeliveryReportKind.Delay ? now - message.Arrival : null,
            RetryLifetime = _queueOptions.MaxLifetime,
            MaxReturnedSize = _noticeOptions.MaxReturnedSize,
            Recipient = to,
        };
    }

    /// <summary>Submits a notice through the same path as every other message (null sender, origin bounce).</summary>
    private async Task<QueuedMessage> SubmitNoticeAsync(byte[] text, string to, DeliveryReport report, bool doubleBounce, DateTimeOffset now)
    {
        MessageWriter writer = _queue.RentWriter();
        try
        {
            writer.Begin(now, long.MaxValue);
            await writer.WriteAsync(text, _stop.Token).ConfigureAwait(false);
            if (writer.StoreFailed)
                throw new QueueUnavailableException("the queue failed while the notice was written");
            SealNotice(writer, to, report, doubleBounce);
            return await writer.CommitAsync().ConfigureAwait(false);
        }
        finally
        {
            _queue.ReturnWriter(writer);
        }
    }

    private void SealNotice(MessageWriter writer, string to, DeliveryReport report, bool doubleBounce)
    {
        var recipients = new RecipientList();
        recipients.Add(Encoding.UTF8.GetBytes(to));
        writer.Seal(new SubmissionEnvelope
        {
            Sender = default,
            Recipients = recipients,
            Origin = MessageOrigin.Bounce,
            ClientHelo = Encoding.UTF8.GetBytes(_noticeOptions.Hostname),
            DoubleBounce = doubleBounce,
            Reports = report,
        });
    }
}
