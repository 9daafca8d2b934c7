using FastSpool.Delivery.Bounces;

namespace FastSpool.Delivery.Tests.Bounces;

public sealed class DsnNoticeTextTests
{
    [Theory]
    [InlineData(0, "1 minute")]
    [InlineData(60, "1 minute")]
    [InlineData(25 * 60 + 20, "25 minutes")]
    [InlineData(3600, "1 hour")]
    [InlineData(4 * 3600, "4 hours")]
    [InlineData(4 * 3600 + 1800, "4.5 hours")]
    [InlineData(36 * 3600, "36 hours")]
    [InlineData(2 * 86400, "2 days")]
    [InlineData(5 * 86400, "5 days")]
    [InlineData(5 * 86400 + 6 * 3600, "5.3 days")]
    public void DurationIsSaidAsAPersonWouldSayIt(int seconds, string expected) =>
        Assert.Equal(expected, DsnNoticeText.Duration(TimeSpan.FromSeconds(seconds)));
}
