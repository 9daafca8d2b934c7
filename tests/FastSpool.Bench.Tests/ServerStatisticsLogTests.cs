using FastSpool.Bench.Posix;

namespace FastSpool.Bench.Tests;

public sealed class ServerStatisticsLogTests : IDisposable
{
    private const string First = "2026-11-24T19:27:30.681Z fastspool info: statistics: connections=10000, accepted=10000, accepted_bytes=11570020, queued=0, allocated=240338088, gc=14/3/2, rss=113995776, threads=18";
    private const string Second = "2026-11-24T19:27:31.681Z fastspool info: statistics: connections=30000, accepted=30000, accepted_bytes=34710048, queued=0, allocated=656410576, gc=39/5/3, rss=127885312, threads=18";

    private readonly string _path = Path.Combine(Path.GetTempPath(), "fastspool-statslog-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void AStatisticsLineGivesTheAcceptedAndAllocatedCounters()
    {
        Assert.True(ServerStatisticsLog.TryParse(First, out ServerStatistics statistics));
        Assert.Equal(new ServerStatistics("2026-11-24T19:27:30.681Z", 10000, 240338088), statistics);
        Assert.False(ServerStatisticsLog.TryParse("2026-11-24T19:27:30.681Z smtpd info: connect from [127.0.0.1]", out _));
        Assert.False(ServerStatisticsLog.TryParse("2026-11-24T19:27:30.681Z fastspool info: statistics: connections=1", out _));
    }

    [Fact]
    public async Task TheNewestLineIsReadAndAWaitEndsWhenANewOneIsWritten()
    {
        Assert.Null(new ServerStatisticsLog(_path).ReadLast()); // no file yet
        File.WriteAllText(_path, First + "\n2026-11-24T19:27:30.700Z smtpd info: connect from [127.0.0.1]\n");
        var log = new ServerStatisticsLog(_path);
        ServerStatistics? first = log.ReadLast();
        Assert.Equal(10000, first?.Accepted);

        Task<ServerStatistics?> waiting = log.WaitForNewAsync(first, TimeSpan.FromSeconds(10));
        Assert.False(waiting.IsCompleted);
        File.AppendAllText(_path, Second + "\n");
        ServerStatistics? second = await waiting;
        Assert.Equal(30000, second?.Accepted);
        Assert.Equal(656410576, second?.Allocated);
    }

    [Fact]
    public async Task AWaitForALineThatNeverComesEndsAtItsTimeout()
    {
        File.WriteAllText(_path, First + "\n");
        var log = new ServerStatisticsLog(_path);
        Assert.Null(await log.WaitForNewAsync(log.ReadLast(), TimeSpan.FromMilliseconds(200)));
    }
}
