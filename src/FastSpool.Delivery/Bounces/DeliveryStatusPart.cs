using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FastSpool.Protocols.Smtp;
using MimeKit;
using MimeKit.Utils;

namespace FastSpool.Delivery.Bounces;

/// <summary>The machine-readable part of a DSN: message/delivery-status (RFC 3464 §2.2 per-message fields,
/// §2.3 per-recipient fields), with the utf-8 address type of RFC 6533 §3 for internationalized addresses.</summary>
internal static class DeliveryStatusPart
{
    // Folding keeps the fields readable; a run without spaces is cut so that no line passes RFC 5322's 998.
    private const int FoldColumn = 78;
    private const int LongestUnbrokenRun = 900;

    // Line ends are made CRLF when the whole notice is written.
    private static readonly FormatOptions GroupText = new() { NewLineFormat = NewLineFormat.Unix };

    public static MessageDeliveryStatus Create(DsnRequest request)
    {
        var content = new MemoryStream();
        PerMessageFields(request).WriteTo(GroupText, content);
        foreach (DsnRecipient recipient in request.Recipients)
            PerRecipientFields(request, recipient).WriteTo(GroupText, content);
        // Each group is written with a blank line after it. The last one's is dropped: the line end before the
        // boundary ends that group, and MimeKit's own StatusGroups writer, which keeps it, reads back an empty
        // group at the end.
        content.SetLength(content.Length - 1);
        content.Position = 0;

        var part = new MessageDeliveryStatus { Content = new MimeContent(content) };
        part.Headers.Add(HeaderId.ContentDescription, "Delivery report");
        return part;
    }

    private static HeaderList PerMessageFields(DsnRequest request)
    {
        var fields = new HeaderList();
        if (request.EnvelopeId is not null)
            Add(fields, "Original-Envelope-Id", Text(request.EnvelopeId));
        Add(fields, "Reporting-MTA", "dns; " + Text(request.ReportingMta));
        if (request.ReceivedFromMta is not null)
            Add(fields, "Received-From-MTA", "dns; " + Text(MtaName(request.ReceivedFromMta)));
        Add(fields, "Arrival-Date", DateUtils.FormatDate(request.ArrivalDate));
        Add(fields, "X-FastSpool-Queue-ID", Text(request.OriginalQueueId));
        // Like Postfix's X-Postfix-Sender: the reverse path is in no standard field, and a postmaster reading a
        // double bounce wants it. The null sender has no address to write.
        if (request.OriginalSender.Length > 0)
            Add(fields, "X-FastSpool-Sender", TypedAddress(request.OriginalSender));
        return fields;
    }

    // In the order of the RFC 3464 §2.3 grammar.
    private static HeaderList PerRecipientFields(DsnRequest request, DsnRecipient recipient)
    {
        var fields = new HeaderList();
        if (recipient.OriginalRecipient is not null)
            Add(fields, "Original-Recipient", OriginalRecipient(recipient.OriginalRecipient));
        Add(fields, "Final-Recipient", TypedAddress(recipient.FinalRecipient));
        Add(fields, "Action", ActionValue(recipient.Action));
        Add(fields, "Status", recipient.Status);
        if (recipient.RemoteMta is not null)
            Add(fields, "Remote-MTA", "dns; " + Text(recipient.RemoteMta));
        if (recipient.DiagnosticCode is not null)
            Add(fields, "Diagnostic-Code", (recipient.RemoteMta is null ? "X-FastSpool; " : "smtp; ") + Text(recipient.DiagnosticCode));
        if (recipient.LastAttempt is { } lastAttempt)
            Add(fields, "Last-Attempt-Date", DateUtils.FormatDate(lastAttempt));
        // §2.3.9: only a delayed recipient has a retry deadline.
        if (recipient.Action == DsnAction.Delayed && WillRetryUntil(request, recipient) is { } until)
            Add(fields, "Will-Retry-Until", DateUtils.FormatDate(until));
        return fields;
    }

    private static DateTimeOffset? WillRetryUntil(DsnRequest request, DsnRecipient recipient) =>
        recipient.WillRetryUntil ?? (request.ArrivalDate + request.RetryLifetime);

    private static string ActionValue(DsnAction action) => action switch
    {
        DsnAction.Failed => "failed",
        DsnAction.Delayed => "delayed",
        DsnAction.Delivered => "delivered",
        DsnAction.Relayed => "relayed",
        DsnAction.Expanded => "expanded",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, null),
    };

    /// <summary><c>rfc822; addr</c>, or for an address with non-ASCII characters RFC 6533's <c>utf-8; addr</c>
    /// in the utf-8-addr-xtext form that a message/delivery-status body must use.</summary>
    private static string TypedAddress(string address) =>
        Ascii.IsValid(address) ? "rfc822; " + Text(address) : "utf-8; " + Utf8AddrXtext.Encode(address);

    // ORCPT is echoed as given; a utf-8 one (kept decoded) or an internationalized one goes out in the 7-bit utf-8
    // form.
    private static string OriginalRecipient(string orcpt)
    {
        if (Ascii.IsValid(orcpt) && !Utf8AddrXtext.IsUtf8Type(orcpt))
            return Text(orcpt);
        int semicolon = orcpt.IndexOf(';');
        return "utf-8;" + Utf8AddrXtext.Encode(orcpt[(semicolon + 1)..].Trim());
    }

    private static string MtaName(string client) =>
        IPAddress.TryParse(client, out IPAddress? address)
            ? address.AddressFamily == AddressFamily.InterNetworkV6 ? "[IPv6:" + address + "]" : "[" + address + "]"
            : client;

    /// <summary>A value made 7-bit and one line: line ends and tabs become spaces, other control and non-ASCII
    /// characters become RFC 6533 EmbeddedUnicodeChar (<c>\x{E9}</c>).</summary>
    private static string Text(string value) => Ascii.IsValid(value) && !HasControl(value) ? value : Escape(value);

    private static bool HasControl(string value)
    {
        foreach (char c in value)
        {
            if (c < ' ' || c == '\x7f')
                return true;
        }
        return false;
    }

    /// <summary>Control and non-ASCII characters as RFC 6533 EmbeddedUnicodeChar (<c>\x{E9}</c>); line ends and tabs as
    /// spaces.</summary>
    private static string Escape(string value)
    {
        var text = new StringBuilder(value.Length + 16);
        foreach (Rune rune in value.EnumerateRunes())
        {
            int c = rune.Value;
            if (c is '\r' or '\n' or '\t')
                text.Append(' ');
            else if (c < ' ' || c >= 0x7f)
                text.Append(@"\x{").Append(c.ToString("X2", CultureInfo.InvariantCulture)).Append('}');
            else
                text.Append((char)c);
        }
        return text.ToString();
    }

    // MimeKit would RFC 2047-encode long words, which has no meaning in a DSN field: the value is folded here
    // and set raw.
    private static void Add(HeaderList fields, string name, string value)
    {
        var header = new Header(name, string.Empty);
        header.SetRawValue(Fold(name, value));
        fields.Add(header);
    }

    private static byte[] Fold(string name, string value)
    {
        var raw = new StringBuilder(value.Length + 8);
        int column = name.Length + 1;
        int firstColumn = column;
        foreach (string word in value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            for (int start = 0; start < word.Length; start += LongestUnbrokenRun)
            {
                int length = Math.Min(LongestUnbrokenRun, word.Length - start);
                if (column > firstColumn && column + 1 + length > FoldColumn)
                {
                    raw.Append('\n');
                    column = 0;
                }
                raw.Append(' ').Append(word, start, length);
                column += 1 + length;
            }
        }
        if (column == firstColumn)
            raw.Append(' ');
        return Encoding.ASCII.GetBytes(raw.Append('\n').ToString());
    }
}
