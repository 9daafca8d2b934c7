using FastSpool.Bench.Posix;

namespace FastSpool.Bench.Tests;

public sealed class ServerProbeTests
{
    [Fact]
    public void CpuTicksAreUtimePlusStimeEvenWithSpacesInTheCommandName()
    {
        const string stat = "4242 (dotnet (x) y) S 1 4242 4242 0 -1 4194560 1234 0 0 0 150 25 0 0 20 0 30 0 1000 0 0";
        Assert.Equal(175, ServerProbe.ParseCpuTicks(stat));
    }

    [Fact]
    public void RssIsReadFromVmRss()
    {
        const string status = "Name:\tdotnet\nVmPeak:\t  900000 kB\nVmRSS:\t   123456 kB\nThreads:\t20\n";
        Assert.Equal(123456, ServerProbe.ParseRssKb(status));
        Assert.Null(ServerProbe.ParseRssKb("Name:\tkthreadd\n"));
    }

    [Fact]
    public void ThisProcessCanBeProbed()
    {
        var probe = new ServerProbe(Environment.ProcessId);
        Assert.True(probe.Found);
        Assert.True(probe.PeakRssKb > 0);
        Assert.True(probe.CpuSecondsUsed() >= 0);
    }
}
