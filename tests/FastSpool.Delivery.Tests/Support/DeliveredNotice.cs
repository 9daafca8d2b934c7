using MimeKit;

namespace FastSpool.Delivery.Tests.Support;

/// <summary>A delivery status notification as a recipient got it, read back with MimeKit: the message, its
/// per-message fields and one field group per recipient it reports on.</summary>
internal sealed record DeliveredNotice(FakeDelivery Delivery, MimeMessage Message, HeaderList PerMessage, IReadOnlyList<HeaderList> Recipients)
{
    public string? OriginalQueueId => PerMessage["X-FastSpool-Queue-ID"];

    /// <summary>The one recipient the notice reports on.</summary>
    public HeaderList Recipient => Assert.Single(Recipients);

    public static DeliveredNotice Read(FakeDelivery delivery)
    {
        MimeMessage message = MimeMessage.Load(new MemoryStream(delivery.Body));
        MultipartReport report = Assert.IsType<MultipartReport>(message.Body);
        Assert.Equal("delivery-status", report.ReportType);
        MessageDeliveryStatus status = Assert.Single(report.OfType<MessageDeliveryStatus>());
        HeaderListCollection groups = status.StatusGroups;
        Assert.True(groups.Count >= 2, $"a delivery-status part with {groups.Count} field groups");
        return new DeliveredNotice(delivery, message, groups[0], [.. groups.Skip(1)]);
    }
}
