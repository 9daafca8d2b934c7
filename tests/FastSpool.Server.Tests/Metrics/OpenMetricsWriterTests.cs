using FastSpool.Server.Metrics;

namespace FastSpool.Server.Tests.Metrics;

/// <summary>The text formats, line by line.</summary>
public sealed class OpenMetricsWriterTests
{
    private static readonly KeyValuePair<string, string>[] Labels = [new("listener", "a\"b\\c\nd")];

    [Fact]
    public void OpenMetricsNamesACounterFamilyWithoutTotalAndEndsWithEof()
    {
        var writer = new OpenMetricsWriter(openMetrics: true);
        writer.Family("fastspool_smtp_connections", MetricKind.Counter, null, "Sessions \"since\" start\\now\nand then");
        writer.Sample("fastspool_smtp_connections", "_total", Labels, 3L);
        writer.Family("fastspool_queue_oldest_age_seconds", MetricKind.Gauge, "seconds", "Age");
        writer.Sample("fastspool_queue_oldest_age_seconds", "", [], 0.25);
        writer.End();
        Assert.Equal(
            "# HELP fastspool_smtp_connections Sessions \\\"since\\\" start\\\\now\\nand then\n" +
            "# TYPE fastspool_smtp_connections counter\n" +
            "fastspool_smtp_connections_total{listener=\"a\\\"b\\\\c\\nd\"} 3\n" +
            "# HELP fastspool_queue_oldest_age_seconds Age\n" +
            "# TYPE fastspool_queue_oldest_age_seconds gauge\n" +
            "# UNIT fastspool_queue_oldest_age_seconds seconds\n" +
            "fastspool_queue_oldest_age_seconds 0.25\n" +
            "# EOF\n", writer.ToString());
        Assert.Equal("application/openmetrics-text; version=1.0.0; charset=utf-8", writer.ContentType);
    }

    [Fact]
    public void PrometheusTextNamesACounterFamilyWithTotalAndHasNoUnitOrEof()
    {
        var writer = new OpenMetricsWriter(openMetrics: false);
        writer.Family("fastspool_smtp_connections", MetricKind.Counter, "bytes", "Sessions \"since\" start");
        writer.Sample("fastspool_smtp_connections", "_total", [], 3L);
        writer.Family("fastspool_queue_commit_wait_seconds", MetricKind.Histogram, "seconds", "Wait");
        writer.Bucket("fastspool_queue_commit_wait_seconds", [], 0.0001, 1);
        writer.Bucket("fastspool_queue_commit_wait_seconds", [], double.PositiveInfinity, 2);
        writer.End();
        Assert.Equal(
            "# HELP fastspool_smtp_connections_total Sessions \"since\" start\n" +
            "# TYPE fastspool_smtp_connections_total counter\n" +
            "fastspool_smtp_connections_total 3\n" +
            "# HELP fastspool_queue_commit_wait_seconds Wait\n" +
            "# TYPE fastspool_queue_commit_wait_seconds histogram\n" +
            "fastspool_queue_commit_wait_seconds_bucket{le=\"0.0001\"} 1\n" +
            "fastspool_queue_commit_wait_seconds_bucket{le=\"+Inf\"} 2\n", writer.ToString());
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", writer.ContentType);
    }

    [Theory]
    [InlineData("fastspool.queue.oldest_age", "s", "fastspool_queue_oldest_age_seconds", "seconds")]
    [InlineData("fastspool.smtp.messages.accepted.bytes", "By", "fastspool_smtp_messages_accepted_bytes", "bytes")]
    [InlineData("fastspool.process.allocated", "By", "fastspool_process_allocated_bytes", "bytes")]
    [InlineData("fastspool.smtp.rejects", "{reply}", "fastspool_smtp_rejects", null)]
    public void InstrumentNamesBecomeOpenMetricsNamesWithTheirUnit(string instrument, string unit, string name, string? suffix) =>
        Assert.Equal((suffix, name), MetricFamily.OpenMetricsName(instrument, unit));

    [Theory]
    [InlineData("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", true)]
    [InlineData("application/openmetrics-text", true)]
    [InlineData("text/plain;version=0.0.4;q=0.5, Application/OpenMetrics-Text; q=0.9", true)]
    [InlineData("application/openmetrics-text;version=0.0.1", false)]
    [InlineData("application/openmetrics-text;q=0", false)]
    [InlineData("text/plain", false)]
    [InlineData("*/*", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void OpenMetricsIsWrittenWhenTheScraperAcceptsIt(string? accept, bool openMetrics) =>
        Assert.Equal(openMetrics, OpenMetricsWriter.Accepts(accept));
}
