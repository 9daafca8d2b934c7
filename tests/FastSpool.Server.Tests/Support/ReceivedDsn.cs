using MimeKit;

namespace FastSpool.Server.Tests.Support;

/// <summary>A delivery status notification as it arrived in a mailbox, taken apart with MimeKit (an independent
/// reader): the RFC 6522 multipart/report, its RFC 3464 per-message and per-recipient fields, and what it returns
/// of the original (text/rfc822-headers or message/rfc822). Reading one that is not such a report fails the test.</summary>
internal sealed class ReceivedDsn
{
    private ReceivedDsn(MimeMessage message, MultipartReport report, HeaderList perMessage, IReadOnlyList<HeaderList> perRecipient, MimeEntity? returned)
    {
        Message = message;
        Report = report;
        PerMessage = perMessage;
        PerRecipient = perRecipient;
        Returned = returned;
    }

    public MimeMessage Message { get; }

    public MultipartReport Report { get; }

    public HeaderList PerMessage { get; }

    public IReadOnlyList<HeaderList> PerRecipient { get; }

    /// <summary>The third part, when there is one.</summary>
    public MimeEntity? Returned { get; }

    /// <summary>The queue id of the message reported on (X-FastSpool-Queue-ID).</summary>
    public string OriginalId => PerMessage["X-FastSpool-Queue-ID"] ?? "";

    public HeaderList Recipient => Assert.Single(PerRecipient);

    public static bool IsReport(MimeMessage message) => message.Body is MultipartReport { ReportType: "delivery-status" };

    public static ReceivedDsn Read(MimeMessage message)
    {
        MultipartReport report = Assert.IsType<MultipartReport>(message.Body);
        Assert.Equal("delivery-status", report.ReportType);
        Assert.True(report.Count is 2 or 3, $"a report of {report.Count} parts");
        Assert.IsType<TextPart>(report[0]);
        MessageDeliveryStatus status = Assert.IsType<MessageDeliveryStatus>(report[1]);
        HeaderListCollection groups = status.StatusGroups;
        Assert.True(groups.Count >= 2, $"{groups.Count} field groups in the delivery status");
        var perRecipient = new List<HeaderList>(groups.Count - 1);
        for (int i = 1; i < groups.Count; i++)
            perRecipient.Add(groups[i]);
        return new ReceivedDsn(message, report, groups[0], perRecipient, report.Count == 3 ? report[2] : null);
    }

    /// <summary>The reports in <paramref name="user"/>'s mailbox, in order.</summary>
    public static List<ReceivedDsn> InMailbox(TestServer server, string user) =>
        Mailbox.Read(server.MailboxPath(user)).Where(m => IsReport(m.Message)).Select(m => Read(m.Message)).ToList();

    /// <summary>The header section that came back as text/rfc822-headers, parsed.</summary>
    public HeaderList ReturnedHeaders()
    {
        MimeMessage headers = Assert.IsType<TextRfc822Headers>(Returned).Message!;
        Assert.NotNull(headers);
        return headers.Headers;
    }

    /// <summary>The whole original that came back as message/rfc822.</summary>
    public MimeMessage ReturnedMessage()
    {
        MimeMessage? message = Assert.IsType<MessagePart>(Returned).Message;
        Assert.NotNull(message);
        return message;
    }
}
