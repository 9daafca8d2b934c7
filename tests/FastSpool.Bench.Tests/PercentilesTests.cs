using FastSpool.Bench.Stats;

namespace FastSpool.Bench.Tests;

public sealed class PercentilesTests
{
    private static readonly long[] OneToThousand = Enumerable.Range(1, 1000).Select(i => (long)i).ToArray();

    [Theory]
    [InlineData(500, 500)]
    [InlineData(900, 900)]
    [InlineData(990, 990)]
    [InlineData(999, 999)]
    [InlineData(1000, 1000)]
    [InlineData(1, 1)]
    public void NearestRankOfOneToAThousandIsThePerMilleItself(int perMille, long expected) =>
        Assert.Equal(expected, Percentiles.NearestRank(OneToThousand, perMille));

    [Fact]
    public void SmallSamplesRoundTheRankUp()
    {
        long[] sorted = [10, 20, 30, 40];
        Assert.Equal(20, Percentiles.NearestRank(sorted, 500));
        Assert.Equal(40, Percentiles.NearestRank(sorted, 900));
        Assert.Equal(40, Percentiles.NearestRank(sorted, 999));
        Assert.Equal(7, Percentiles.NearestRank([7], 500));
    }

    [Fact]
    public void NoSamplesGiveZero() => Assert.Equal(0, Percentiles.NearestRank([], 990));

    [Fact]
    public void StatisticsReportPercentilesOfRecordedLatencies()
    {
        var statistics = new BenchStatistics(100);
        long tick = System.Diagnostics.Stopwatch.Frequency / 1000;
        for (int ms = 100; ms >= 1; ms--)
            statistics.RecordAccepted(ms * tick, 10);
        statistics.RecordFailure(451);
        statistics.RecordFailure(451);
        statistics.RecordFailure(Smtp.Failure.Io);
        LatencyReport latency = statistics.SummarizeLatencies();
        Assert.Equal(50, latency.P50, 3);
        Assert.Equal(90, latency.P90, 3);
        Assert.Equal(99, latency.P99, 3);
        Assert.Equal(100, latency.P999, 3);
        Assert.Equal(100, latency.Max, 3);
        Assert.Equal(100, statistics.Accepted);
        Assert.Equal(1000, statistics.AcceptedBytes);
        Assert.Equal(new Dictionary<string, long> { ["451"] = 2, ["io"] = 1 }, statistics.ErrorsByKind());
    }
}
