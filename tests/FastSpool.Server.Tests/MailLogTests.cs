using System.Text;
using FastSpool.Server.Logging;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Tests;

public sealed class MailLogTests
{
    [Fact]
    public void ALineHasTimeComponentLevelAndMessage()
    {
        string line = MailLogProvider.Format(new DateTime(2026, 11, 24, 17, 2, 50, 123, DateTimeKind.Utc), "smtpd", LogLevel.Information,
            "connect from [127.0.0.1]", null);
        Assert.Equal("2026-11-24T17:02:50.123Z smtpd info: connect from [127.0.0.1]\n", line);
    }

    [Fact]
    public void LineBreaksInAMessageNeverSplitTheLine()
    {
        string line = MailLogProvider.Format(DateTime.UnixEpoch, "qmgr", LogLevel.Warning, "a\nb", new IOException("disk\nfull"));
        Assert.Equal("1970-01-01T00:00:00.000Z qmgr warning: a b (IOException: disk full)\n", line);
    }

    [Fact]
    public void EveryLineIsWrittenInOrderAndNothingBelowTheLevel()
    {
        var output = new MemoryStream();
        using (var provider = new MailLogProvider(LogLevel.Information, output))
        using (var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(provider)))
        {
            ILogger log = factory.CreateLogger("FastSpool.smtpd");
            for (int i = 0; i < 1000; i++)
                log.LogInformation("line {Number}", i);
            log.LogDebug("not written");
        }
        string[] lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1000, lines.Length);
        for (int i = 0; i < lines.Length; i++)
            Assert.EndsWith($" smtpd info: line {i}", lines[i]);
    }
}
