using System.Globalization;
using System.Text;
using System.Text.Json;
using FastSpool.Delivery.Control;
using FastSpool.Queue;

namespace FastSpool.Cli;

/// <summary><c>fastspool mailq</c>'s output, as pure functions of the queue listing. The text is Postfix's mailq
/// layout, so that scripts and eyes used to it read it: a header, then per message its id (<c>!</c> held,
/// <c>*</c> being delivered), size, arrival and sender, then its recipients not yet done, under the reason of
/// their last deferral; a blank line after each message; a total. Columns are wider than Postfix's for our
/// 13-digit ids, and recipients stand under the sender.</summary>
internal static class MailqFormatter
{
    public const string Header = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------";
    public const string Empty = "Mail queue is empty";

    /// <summary>The null sender, as sendmail and Postfix show it.</summary>
    public const string NullSender = "MAILER-DAEMON";

    private const int IdWidth = QueueId.TextLength + 1;
    private const int SizeWidth = 8;
    private static readonly string Indent = new(' ', IdWidth + 1 + SizeWidth + 1 + "Sun Nov 29 21:32:36".Length + 2);

    public static string Text(IReadOnlyList<QueuedMessageView> messages, TimeZoneInfo zone)
    {
        var text = new StringBuilder();
        if (messages.Count == 0)
            return text.Append(Empty).Append('\n').ToString();
        text.Append(Header).Append('\n');
        long bytes = 0;
        foreach (QueuedMessageView message in messages)
        {
            bytes += message.Size;
            string id = message.Id + (message.Held ? "!" : message.Active ? "*" : "");
            text.Append(CultureInfo.InvariantCulture, $"{id,-IdWidth} {message.Size,SizeWidth} {AscTime(message.Arrival, zone)}  ")
                .Append(message.Sender.Length == 0 ? NullSender : message.Sender).Append('\n');
            AppendRecipients(text, message.Recipients);
            text.Append('\n');
        }
        long kbytes = (bytes + 1023) / 1024;
        text.Append(CultureInfo.InvariantCulture, $"-- {kbytes} Kbytes in {messages.Count} Request{(messages.Count == 1 ? "" : "s")}.\n");
        return text.ToString();
    }

    /// <summary>One JSON object per line per message, after <c>postqueue -j</c>: <c>queue_name</c> is hold, active,
    /// deferred (a recipient is) or incoming; every recipient comes with its status.</summary>
    public static string JsonLines(IReadOnlyList<QueuedMessageView> messages)
    {
        var text = new StringBuilder();
        foreach (QueuedMessageView message in messages)
        {
            var recipients = new List<MailqJsonRecipient>(message.Recipients.Count);
            bool deferred = false;
            foreach (RecipientView r in message.Recipients)
            {
                deferred |= r.Status == RecipientStatus.Deferred;
                recipients.Add(new MailqJsonRecipient(r.Address, r.Status.ToString().ToLowerInvariant(), r.Attempts,
                    r.NextAttempt?.ToUnixTimeSeconds(), r.LastReply?.Describe()));
            }
            string queue = message.Held ? "hold" : message.Active ? "active" : deferred ? "deferred" : "incoming";
            var line = new MailqJsonMessage(queue, message.Id, message.Arrival.ToUnixTimeSeconds(), message.Size, message.Sender, recipients);
            text.Append(JsonSerializer.Serialize(line, MailqJsonContext.Relaxed.MailqJsonMessage)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>asctime(3) without the year, in <paramref name="zone"/>: <c>Sun Nov  1 21:32:36</c>.</summary>
    public static string AscTime(DateTimeOffset time, TimeZoneInfo zone)
    {
        DateTimeOffset local = TimeZoneInfo.ConvertTime(time, zone);
        return string.Create(CultureInfo.InvariantCulture, $"{local:ddd MMM} {local.Day,2} {local:HH:mm:ss}");
    }

    /// <summary>Pending and deferred recipients: those without a reason first, then each reason once in
    /// parentheses with its recipients under it.</summary>
    private static void AppendRecipients(StringBuilder text, IReadOnlyList<RecipientView> recipients)
    {
        var reasons = new List<string>();
        foreach (RecipientView r in recipients)
        {
            if (!IsWaiting(r))
                continue;
            if (r.LastReply is null)
                text.Append(Indent).Append(r.Address).Append('\n');
            else if (!reasons.Contains(r.LastReply.Describe()))
                reasons.Add(r.LastReply.Describe());
        }
        foreach (string reason in reasons)
        {
            text.Append(Indent).Append('(').Append(reason).Append(")\n");
            foreach (RecipientView r in recipients)
            {
                if (IsWaiting(r) && r.LastReply?.Describe() == reason)
                    text.Append(Indent).Append(r.Address).Append('\n');
            }
        }
    }

    private static bool IsWaiting(RecipientView r) => r.Status is RecipientStatus.Pending or RecipientStatus.Deferred;
}
