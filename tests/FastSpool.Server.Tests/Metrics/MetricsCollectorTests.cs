using System.Diagnostics.Metrics;
using FastSpool.Metrics;
using FastSpool.Server.Metrics;
using FastSpool.Server.Smtp;
using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests.Metrics;

/// <summary>The collector behind the metrics endpoint: what it keeps, whose instruments it reads, and that a
/// measurement costs no allocation once its series exists.</summary>
public sealed class MetricsCollectorTests : IDisposable
{
    private readonly ServerMeterFactory _meters = new();
    private readonly Meter _meter;
    private readonly MetricsCollector _collector;

    public MetricsCollectorTests()
    {
        _meter = _meters.Create(new MeterOptions("FastSpool.Test"));
        _collector = new MetricsCollector(_meters);
    }

    public void Dispose()
    {
        _collector.Dispose();
        _meter.Dispose();
    }

    private Scrape Collect(bool openMetrics = true)
    {
        var writer = new OpenMetricsWriter(openMetrics);
        _collector.WriteTo(writer);
        Scrape scrape = Scrape.Parse(writer.ToString(), openMetrics);
        Assert.Empty(scrape.Errors);
        return scrape;
    }

    private static long AllocatedBy(Action action, int times)
    {
        action(); // the first measurement of a series makes it
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < times; i++)
            action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void CountingARefusalAllocatesNothingOnceItsSeriesExists()
    {
        using var metrics = new ServerMetrics(new ServerStatistics(), _meters);
        byte[] reply = "550 5.1.1 <nobody@localhost>: Recipient address rejected: User unknown in local recipient table\r\n"u8.ToArray();
        Assert.Equal(0, AllocatedBy(() => metrics.Rejected("RCPT", reply), 1000));
        Assert.Equal(1001, Collect().Value("fastspool_smtp_rejects_total", ("command", "RCPT"), ("code", "550"), ("enhanced", "5.1.1")));
    }

    [Fact]
    public void CountersWithCachedTagsAndHistogramsAllocateNothingPerMeasurement()
    {
        Counter<long> deliveries = _meter.CreateCounter<long>("fastspool.test.deliveries");
        Histogram<double> wait = _meter.CreateHistogram("fastspool.test.wait", "s", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.01] });
        var sent = new KeyValuePair<string, object?>("outcome", "sent");
        var local = new KeyValuePair<string, object?>("transport", "local");
        Assert.Equal(0, AllocatedBy(() => deliveries.Add(1, sent, local), 1000));
        Assert.Equal(0, AllocatedBy(() => wait.Record(0.005), 1000));

        Scrape scrape = Collect();
        Assert.Equal(1001, scrape.Value("fastspool_test_deliveries_total", ("outcome", "sent"), ("transport", "local")));
        Assert.Equal(0, scrape.Value("fastspool_test_wait_seconds_bucket", ("le", "0.001")));
        Assert.Equal(1001, scrape.Value("fastspool_test_wait_seconds_bucket", ("le", "0.01")));
        Assert.Equal(1001, scrape.Value("fastspool_test_wait_seconds_bucket", ("le", "+Inf")));
        Assert.Equal(1001, scrape.Value("fastspool_test_wait_seconds_count"));
        Assert.Equal(5.005, scrape.Value("fastspool_test_wait_seconds_sum"), 6);
    }

    [Fact]
    public void TagsGivenInAnotherOrderCountInTheSameSeries()
    {
        Counter<long> counter = _meter.CreateCounter<long>("fastspool.test.replies");
        counter.Add(1, new KeyValuePair<string, object?>("code", "550"), new KeyValuePair<string, object?>("command", "RCPT"));
        counter.Add(2, new KeyValuePair<string, object?>("command", "RCPT"), new KeyValuePair<string, object?>("code", "550"));
        Assert.Equal(3, Collect().Value("fastspool_test_replies_total", ("code", "550"), ("command", "RCPT")));
    }

    [Fact]
    public void InstrumentsOfAnotherServerInTheSameProcessAreNotCollected()
    {
        using var other = new ServerMeterFactory();
        using Meter theirs = other.Create(new MeterOptions("FastSpool.Test"));
        using var unscoped = new Meter("FastSpool.Test");
        theirs.CreateCounter<long>("fastspool.test.theirs").Add(1);
        unscoped.CreateCounter<long>("fastspool.test.unscoped").Add(1);
        _meter.CreateCounter<long>("fastspool.test.ours").Add(1);
        Scrape scrape = Collect();
        Assert.Equal(["fastspool_test_ours_total"], scrape.Samples.Select(s => s.Name));
    }

    [Fact]
    public void ObservedInstrumentsAreReadAtEachScrape()
    {
        long value = 5;
        _meter.CreateObservableGauge("fastspool.test.queued", () => value, "{message}", "Messages");
        _meter.CreateObservableCounter("fastspool.test.bytes", () => value * 100, "By", "Bytes");
        Assert.Equal(5, Collect().Value("fastspool_test_queued"));
        value = 7;
        Scrape scrape = Collect();
        Assert.Equal(7, scrape.Value("fastspool_test_queued"));
        Assert.Equal(700, scrape.Value("fastspool_test_bytes_total"));
        Assert.Equal("counter", scrape.Types["fastspool_test_bytes"]);
    }

    [Fact]
    public void AMeterDisposedIsNoLongerWritten()
    {
        Meter gone = _meters.Create(new MeterOptions("FastSpool.Gone"));
        gone.CreateCounter<long>("fastspool.test.gone").Add(1);
        Assert.Contains("fastspool_test_gone", Collect().Types.Keys);
        gone.Dispose();
        Assert.DoesNotContain("fastspool_test_gone", Collect().Types.Keys);
    }

    [Theory]
    [InlineData("550 5.1.1 <a@localhost>: Recipient address rejected\r\n", "550", "5.1.1")]
    [InlineData("421-4.7.0 mx.example.test Error: too many connections\r\n", "421", "4.7.0")]
    [InlineData("552 5.3.4 Error: message file too big\r\n", "552", "5.3.4")]
    [InlineData("554 5.7.1 <a@elsewhere.test>: Relay access denied\r\n", "554", "5.7.1")]
    [InlineData("451 4.3.0 Error: queue file write error\r\n", "451", "4.3.0")]
    [InlineData("500 5.5.2 Error: command not recognized\r\n", "500", "5.5.2")]
    [InlineData("550 5.100.200\r\n", "550", "5.100.200")]
    [InlineData("502 Command not implemented\r\n", "502", "")]
    [InlineData("550 5.1 x\r\n", "550", "")]
    [InlineData("550 5.1.1x\r\n", "550", "")]
    [InlineData("5x0 5.1.1 x\r\n", "", "")]
    [InlineData("55", "", "")]
    public void AReplyIsCountedByItsCodeAndEnhancedStatusCode(string reply, string code, string enhanced)
    {
        Assert.Equal((code, enhanced), ReplyTags.Of(System.Text.Encoding.ASCII.GetBytes(reply)));
        // Made once: the same string every time.
        Assert.Same(ReplyTags.Of(System.Text.Encoding.ASCII.GetBytes(reply)).Code, ReplyTags.Of(System.Text.Encoding.ASCII.GetBytes(reply)).Code);
    }
}
