using System.Globalization;
using System.Text;
using FastSpool.Delivery.Control;
using FastSpool.Queue;
using FastSpool.Server.Admin;

namespace FastSpool.Cli;

/// <summary><c>fastspool queue show ID</c>'s output, as a pure function of the server's answer: the envelope, each
/// recipient with its state and history, then the header section. Absent envelope fields show as <c>-</c>, so
/// every message has the same lines.</summary>
internal static class MessageFormatter
{
    private const string Absent = "-";

    public static string Text(MessageDetails details, TimeZoneInfo zone)
    {
        QueuedMessageView m = details.Message;
        var text = new StringBuilder();
        Field(text, "Queue ID", m.Id);
        Field(text, "Arrival", Time(m.Arrival, zone));
        Field(text, "Size", m.Size.ToString(CultureInfo.InvariantCulture) + " octets");
        Field(text, "Sender", $"<{m.Sender}>");
        Field(text, "Origin", m.Origin);
        Field(text, "Client", m.ClientAddress ?? Absent);
        Field(text, "HELO", m.ClientHelo ?? Absent);
        Field(text, "Auth name", m.AuthenticatedName ?? Absent);
        Field(text, "ENVID", m.EnvelopeId ?? Absent);
        Field(text, "RET", m.ReturnFullMessage ? "FULL" : "HDRS");
        Field(text, "State", m.Held ? "held" : m.Active ? "active (being delivered)" : "queued");
        foreach (RecipientView r in m.Recipients)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nRecipient {r.Index + 1}: <{r.Address}>\n");
            string state = string.Create(CultureInfo.InvariantCulture, $"{r.Status.ToString().ToLowerInvariant()}, {r.Attempts} attempt{(r.Attempts == 1 ? "" : "s")}");
            if (r.NextAttempt is { } next)
                state += ", next " + Time(next, zone);
            Field(text, "  State", state);
            if (r.OriginalRecipient is not null)
                Field(text, "  ORCPT", r.OriginalRecipient);
            if (r.Notify is not null)
                Field(text, "  NOTIFY", r.Notify);
            Field(text, "  Last reply", r.LastReply is null ? Absent : Reply(r.LastReply));
            if (r.History.Count == 0)
                continue;
            text.Append("  History:\n");
            foreach (RecipientEvent e in r.History)
            {
                text.Append("    ").Append(Time(e.Time, zone)).Append("  ").Append(e.Status.ToString().ToLowerInvariant());
                if (e.Reply is not null)
                    text.Append("  ").Append(Reply(e.Reply));
                text.Append('\n');
            }
        }
        text.Append("\nHeaders:\n").Append(details.Headers.ReplaceLineEndings("\n"));
        if (details.Headers.Length > 0 && !details.Headers.EndsWith('\n'))
            text.Append('\n');
        return text.ToString();
    }

    /// <summary>Local time with its offset, sortable: <c>2026-11-29 21:32:36 +01:00</c>.</summary>
    public static string Time(DateTimeOffset time, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(time, zone).ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);

    private static string Reply(DeliveryReply reply) =>
        string.Create(CultureInfo.InvariantCulture, $"{reply.Code} {reply.EnhancedStatus} {reply.Text}")
        + (reply.RemoteHost is null ? "" : reply.FromHost ? $" (from {reply.RemoteHost})" : $" (with {reply.RemoteHost})");

    private static void Field(StringBuilder text, string name, string value) =>
        text.Append(name).Append(':').Append(' ', Math.Max(1, 14 - name.Length)).Append(value).Append('\n');
}
