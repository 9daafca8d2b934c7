using System.Globalization;
using System.Text;
using MimeKit;
using MimeKit.Utils;

namespace FastSpool.Delivery.Bounces;

/// <summary>The human-readable first part of a DSN (RFC 3464 §2, RFC 6522 §3), worded in the plain tone of
/// Postfix's notices so that people who know those recognise it.</summary>
internal static class DsnNoticeText
{
    private const int WrapColumn = 72;

    private const string WarningLine = "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #";

    public static TextPart Create(DsnRequest request, DsnKind kind, MimeEntity? returned)
    {
        string text = Compose(request, kind, returned);
        var part = new TextPart("plain");
        part.SetText(Ascii.IsValid(text) ? "us-ascii" : "utf-8", text);
        // 7bit unless a non-ASCII address or reason, or a line past 998 octets, needs quoted-printable.
        part.ContentTransferEncoding = part.GetBestEncoding(EncodingConstraint.SevenBit, 998);
        part.ContentDescription = "Notification";
        return part;
    }

    private static string Compose(DsnRequest request, DsnKind kind, MimeEntity? returned)
    {
        var text = new StringBuilder(1024);
        Paragraph(text, $"This is the mail system at host {request.ReportingMta}.");
        switch (kind)
        {
            case DsnKind.Failure:
                Paragraph(text, "I'm sorry to have to inform you that your message could not be delivered to one or "
                    + "more recipients. " + WhatIsAttached(returned));
                Assistance(text, request, returned);
                break;
            case DsnKind.Delay:
                string box = new('#', WarningLine.Length);
                text.Append(box).Append('\n').Append(WarningLine).Append('\n').Append(box).Append("\n\n");
                Paragraph(text, DelaySentence(request));
                Assistance(text, request, returned);
                break;
            default:
                Paragraph(text, "Your message was delivered to the destinations listed below. Where it reached a "
                    + "mailbox, you will hear nothing more about it. Where it was passed on to a system that does "
                    + "not report back, or to the members of a list or alias, you may still be told of problems "
                    + "further along.");
                break;
        }
        text.Append("                   The mail system\n");
        foreach (DsnRecipient recipient in request.Recipients)
        {
            text.Append('\n').Append('<').Append(recipient.FinalRecipient).Append('>');
            if (ExpandedFrom(recipient) is { } original)
                text.Append(" (expanded from <").Append(original).Append(">)");
            text.Append(": ").Append(OneLine(recipient.HumanReason)).Append('\n');
        }
        return text.ToString();
    }

    private static string WhatIsAttached(MimeEntity? returned) => returned switch
    {
        TextRfc822Headers => "The header section of your message is attached below.",
        MessagePart => "It's attached below.",
        _ => "Your message itself could not be read back, so it is not attached.",
    };

    private static void Assistance(StringBuilder text, DsnRequest request, MimeEntity? returned)
    {
        Paragraph(text, $"For further assistance, please send mail to {request.Postmaster}.");
        Paragraph(text, returned is null
            ? "If you do so, please include this problem report."
            : "If you do so, please include this problem report. You can delete your own text from the attached "
                + "returned message.");
    }

    private static string DelaySentence(DsnRequest request)
    {
        TimeSpan delayed = request.DelayedFor ?? request.Date - request.ArrivalDate;
        string sentence = $"Your message could not be delivered for {Duration(delayed)} to the recipients listed below.";
        DateTimeOffset? until = request.RetryLifetime is { } lifetime ? request.ArrivalDate + lifetime : LatestRetry(request);
        if (until is null)
            return sentence + " The mail system will keep trying, and will write to you again if it has to give up.";
        string howLong = request.RetryLifetime is { } retry ? $" ({Duration(retry)} after it arrived)" : "";
        return sentence + $" The mail system will keep trying until {DateUtils.FormatDate(until.Value)}{howLong}, "
            + "and will write to you again if it has to give up.";
    }

    private static DateTimeOffset? LatestRetry(DsnRequest request)
    {
        DateTimeOffset? latest = null;
        foreach (DsnRecipient recipient in request.Recipients)
        {
            if (recipient.WillRetryUntil is { } until && (latest is null || until > latest))
                latest = until;
        }
        return latest;
    }

    /// <summary>As a person would say it: <c>25 minutes</c>, <c>4 hours</c>, <c>4.5 hours</c>, <c>5 days</c>.</summary>
    internal static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.FromHours(1))
            return Count(Math.Max(1, span.TotalMinutes), decimals: 0, "minute");
        if (span < TimeSpan.FromDays(2))
            return Count(span.TotalHours, decimals: 1, "hour");
        return Count(span.TotalDays, decimals: 1, "day");
    }

    // Rounded half up, as people do.
    private static string Count(double amount, int decimals, string unit)
    {
        double rounded = Math.Round(amount, decimals, MidpointRounding.AwayFromZero);
        return rounded.ToString("0.#", CultureInfo.InvariantCulture) + " " + unit + (rounded == 1 ? "" : "s");
    }

    // Postfix's "(expanded from <...>)": said only when an rfc822 ORCPT names another address than the final one.
    private static string? ExpandedFrom(DsnRecipient recipient)
    {
        const string Prefix = "rfc822;";
        string? orcpt = recipient.OriginalRecipient;
        if (orcpt is null || !orcpt.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            return null;
        string address = orcpt[Prefix.Length..].Trim();
        return address.Equals(recipient.FinalRecipient, StringComparison.OrdinalIgnoreCase) ? null : address;
    }

    private static string OneLine(string value) => value.ReplaceLineEndings(" ");

    private static void Paragraph(StringBuilder text, string words)
    {
        int column = 0;
        foreach (string word in words.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (column > 0 && column + 1 + word.Length > WrapColumn)
            {
                text.Append('\n');
                column = 0;
            }
            else if (column > 0)
            {
                text.Append(' ');
                column++;
            }
            text.Append(word);
            column += word.Length;
        }
        text.Append("\n\n");
    }
}
