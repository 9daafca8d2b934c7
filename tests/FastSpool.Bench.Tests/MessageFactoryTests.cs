using System.Text;
using System.Text.RegularExpressions;
using FastSpool.Bench.Messages;

namespace FastSpool.Bench.Tests;

public sealed class MessageFactoryTests
{
    private static MessageFactory Factory(SizeMix sizes) =>
        new("bench@example.org", "alice@localhost", sizes, new DateTimeOffset(2026, 11, 24, 17, 19, 20, TimeSpan.FromHours(1)), "run1");

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(79)]
    [InlineData(80)]
    [InlineData(81)]
    [InlineData(82)]
    [InlineData(161)]
    [InlineData(1024)]
    [InlineData(10240)]
    [InlineData(102400)]
    public void BodiesHaveTheExactSizeInLinesOfAtMost78Characters(int size)
    {
        byte[] body = MessageFactory.BuildBody(size);
        Assert.Equal(size, body.Length);
        string text = Encoding.ASCII.GetString(body);
        if (size == 0)
            return;
        Assert.EndsWith("\r\n", text);
        string[] lines = text[..^2].Split("\r\n");
        Assert.All(lines, line => Assert.InRange(line.Length, 0, 78));
        Assert.All(lines, line => Assert.DoesNotContain('\r', line));
        Assert.All(lines, line => Assert.DoesNotContain('\n', line));
        Assert.All(lines, line => Assert.False(line.StartsWith('.') || line.StartsWith("From ", StringComparison.Ordinal)));
        // All lines but the last one or two are full, as smtp-source writes them.
        Assert.All(lines.SkipLast(2), line => Assert.Equal(78, line.Length));
    }

    [Fact]
    public void MessagesCarryHeadersAndTheExactBody()
    {
        MessageFactory factory = Factory(SizeMix.Single(1000));
        string message = Encoding.ASCII.GetString(factory.Compose(7));
        int split = message.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        string header = message[..(split + 2)];
        Assert.Equal(
            "From: <bench@example.org>\r\n" +
            "To: <alice@localhost>\r\n" +
            "Subject: fastspool-bench message 0000000007\r\n" +
            "Date: Tue, 24 Nov 2026 17:19:20 +0100\r\n" +
            "Message-ID: <0000000007.run1@fastspool-bench.invalid>\r\n",
            header);
        Assert.Equal(1000, message.Length - split - 4);
        Assert.Equal(message.Length, factory.BodyFor(7).MessageLength);
    }

    [Fact]
    public void EveryMessageHasItsOwnNumberAndMessageId()
    {
        MessageFactory factory = Factory(SizeMix.Single(100));
        var ids = new HashSet<string>();
        var subjects = new HashSet<string>();
        for (long n = 1; n <= 500; n++)
        {
            string text = Encoding.ASCII.GetString(factory.Compose(n));
            ids.Add(Regex.Match(text, "^Message-ID: (.*)\r$", RegexOptions.Multiline).Groups[1].Value);
            Match subject = Regex.Match(text, "^Subject: fastspool-bench message ([0-9]{10})\r$", RegexOptions.Multiline);
            Assert.Equal(n, long.Parse(subject.Groups[1].Value));
            subjects.Add(subject.Value);
        }
        Assert.Equal(500, ids.Count);
        Assert.Equal(500, subjects.Count);
    }

    [Fact]
    public void StampingASessionCopyOfTheHeaderMatchesCompose()
    {
        MessageFactory factory = Factory(SizeMix.Single(300));
        byte[] header = factory.HeaderTemplate.ToArray();
        factory.Stamp(header, 1234567890);
        Assert.Equal(factory.Compose(1234567890).AsSpan(0, header.Length).ToArray(), header);
    }

    [Fact]
    public void DataTextIsTheStuffedBodyWithTheTerminatorAndBdatCountsTheWholeMessage()
    {
        MessageFactory factory = Factory(SizeMix.Single(1000));
        MessageBody body = factory.BodyAt(0);
        Assert.Equal([.. body.Text.ToArray(), .. ".\r\n"u8.ToArray()], body.DataText.ToArray());
        Assert.Equal($"BDAT {body.MessageLength} LAST\r\n", Encoding.ASCII.GetString(body.BdatCommand));
        Assert.Equal(factory.HeaderTemplate.Length + 1000, body.MessageLength);
        Assert.Equal("MAIL FROM:<bench@example.org>\r\n", Encoding.ASCII.GetString(factory.MailCommand));
        Assert.Equal("RCPT TO:<alice@localhost>\r\n", Encoding.ASCII.GetString(factory.RcptCommand));
    }

    [Fact]
    public void AnEmptyBodyEndsRightAfterTheHeader()
    {
        MessageFactory factory = Factory(SizeMix.Single(0));
        Assert.Equal(".\r\n"u8.ToArray(), factory.BodyAt(0).DataText.ToArray());
        Assert.EndsWith("\r\n\r\n", Encoding.ASCII.GetString(factory.Compose(1)));
    }

    [Fact]
    public void ASizeMixPicksBodiesByMessageNumber()
    {
        MessageFactory factory = Factory(new SizeMix([100, 2000], [3, 1]));
        int[] sizes = Enumerable.Range(1, 8).Select(n => factory.BodyFor(n).Size).ToArray();
        Assert.Equal(6, sizes.Count(s => s == 100));
        Assert.Equal(2, sizes.Count(s => s == 2000));
    }
}
