using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using MimeKit;

namespace FastSpool.Delivery.Bounces;

/// <summary>Builds delivery status notifications: RFC 3464 DSNs in an RFC 6522 multipart/report, sent with
/// <c>Auto-Submitted: auto-replied</c> (RFC 3834 §5).</summary>
public static class DsnBuilder
{
    private static readonly FormatOptions SmtpText = CreateSmtpText();

    /// <summary>Builds the notice for <paramref name="request"/>. <paramref name="originalMessage"/> is the
    /// message as queued (RFC 5322 text with CRLF line ends), read from its current position; it is attached
    /// whole for a failure with RET=FULL that fits <see cref="DsnRequest.MaxReturnedSize"/>, else by its header
    /// section. Content that cannot be parsed is attached in part or left out; it never makes this throw.</summary>
    /// <exception cref="ArgumentException">The request has no recipients, recipients of different kinds, a
    /// malformed status code, or no address to send the notice to.</exception>
    public static MimeMessage Build(DsnRequest request, Stream originalMessage)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(originalMessage);
        DsnKind kind = Validate(request);
        if (!MailboxAddress.TryParse(request.Recipient, out MailboxAddress? to))
            ThrowInvalid($"'{request.Recipient}' is not an address to send the notice to.", nameof(request));

        // RFC 3461 §4.3: RET=FULL asks for the whole message in failure notices only.
        bool full = kind == DsnKind.Failure && request.ReturnFullMessage;
        MimeEntity? returned = ReturnedOriginal.Read(originalMessage, full, request.MaxReturnedSize);

        var report = new MultipartReport("delivery-status")
        {
            DsnNoticeText.Create(request, kind, returned),
            DeliveryStatusPart.Create(request),
        };
        if (returned is not null)
        {
            returned.Headers[HeaderId.ContentDescription] = Description(kind, returned);
            report.Add(returned);
            // RFC 2045 §6.4: a multipart that holds an 8bit part is itself 8bit.
            if (ReturnedOriginal.IsEightBit(returned))
                report.Headers.Add(HeaderId.ContentTransferEncoding, "8bit");
        }

        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mail Delivery System", "MAILER-DAEMON@" + request.ReportingMta));
        message.To.Add(to);
        message.Date = request.Date;
        message.Subject = Subject(kind);
        message.MessageId = NewMessageId(request);
        message.Headers.Add("Auto-Submitted", "auto-replied");
        message.Body = report;
        return message;
    }

    /// <summary>Writes <paramref name="dsn"/> as SMTP text with CRLF line ends. A notice that carries 8-bit text
    /// (an SMTPUTF8 address, an 8BITMIME original returned as it came) needs a transport that takes it.</summary>
    public static void WriteTo(MimeMessage dsn, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(dsn);
        dsn.WriteTo(SmtpText, destination);
    }

    /// <summary><see cref="WriteTo"/> into a new array, ready to be queued.</summary>
    public static byte[] Render(MimeMessage dsn)
    {
        using var bytes = new MemoryStream();
        WriteTo(dsn, bytes);
        return bytes.ToArray();
    }

    private static FormatOptions CreateSmtpText()
    {
        FormatOptions options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        // International would re-fold the returned header section, which must go back as it came.
        options.International = false;
        return options;
    }

    private static DsnKind Validate(DsnRequest request)
    {
        IReadOnlyList<DsnRecipient> recipients = request.Recipients;
        if (recipients is null || recipients.Count == 0)
            ThrowInvalid("A delivery status notification reports on at least one recipient.", nameof(request));
        DsnKind kind = KindOf(recipients[0].Action);
        foreach (DsnRecipient recipient in recipients)
        {
            if (KindOf(recipient.Action) != kind)
                ThrowInvalid("The recipients of one notice are all failed, all delayed, or all delivered, relayed or expanded.", nameof(request));
            if (!IsStatusCode(recipient.Status))
                ThrowInvalid($"'{recipient.Status}' is not an RFC 3463 status code.", nameof(request));
        }
        return kind;
    }

    private static DsnKind KindOf(DsnAction action) => action switch
    {
        DsnAction.Failed => DsnKind.Failure,
        DsnAction.Delayed => DsnKind.Delay,
        _ => DsnKind.Success,
    };

    // RFC 3463 §2: class "." subject "." detail, class 2, 4 or 5, subject and detail one to three digits.
    private static bool IsStatusCode(string status)
    {
        if (status is null || status.Length < 5 || status[0] is not ('2' or '4' or '5') || status[1] != '.')
            return false;
        int secondDot = status.IndexOf('.', 2);
        return secondDot > 2 && IsDigits(status.AsSpan(2, secondDot - 2)) && IsDigits(status.AsSpan(secondDot + 1));
    }

    private static bool IsDigits(ReadOnlySpan<char> part)
    {
        if (part.IsEmpty || part.Length > 3)
            return false;
        foreach (char c in part)
        {
            if (!char.IsAsciiDigit(c))
                return false;
        }
        return true;
    }

    private static string Subject(DsnKind kind) => kind switch
    {
        DsnKind.Failure => "Undelivered Mail Returned to Sender",
        DsnKind.Delay => "Delayed Mail (still being retried)",
        _ => "Successful Mail Delivery Report",
    };

    private static string Description(DsnKind kind, MimeEntity returned)
    {
        string noun = kind switch
        {
            DsnKind.Failure => "Undelivered Message",
            DsnKind.Delay => "Delayed Message",
            _ => "Delivered Message",
        };
        return returned is TextRfc822Headers ? noun + " Headers" : noun;
    }

    // The queue id and date make a notice easy to trace back; the random part keeps two notices for one message
    // in the same second apart.
    private static string NewMessageId(DsnRequest request) =>
        $"{request.Date.UtcDateTime:yyyyMMddHHmmss}.{request.OriginalQueueId}.{RandomNumberGenerator.GetHexString(8)}@{request.ReportingMta}";

    [DoesNotReturn]
    private static void ThrowInvalid(string message, string paramName) => throw new ArgumentException(message, paramName);
}
