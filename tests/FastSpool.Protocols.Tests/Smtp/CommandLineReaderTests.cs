using System.Buffers;
using System.Text;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Protocols.Tests.Smtp;

public sealed class CommandLineReaderTests
{
    private const int MaxCommandLine = 512;

    private readonly record struct Result(LineReadStatus Status, string Line);

    private static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);

    /// <summary>Reads lines from one buffer until NeedMore; returns them and how much was left unconsumed.</summary>
    private static (List<Result> Results, long Unconsumed) ReadAll(ref CommandLineReader lines,
        ReadOnlySequence<byte> buffer, int maxLength = MaxCommandLine)
    {
        var results = new List<Result>();
        var reader = new SequenceReader<byte>(buffer);
        while (true)
        {
            long before = reader.Consumed;
            LineReadStatus status = lines.TryReadLine(ref reader, maxLength, out ReadOnlySequence<byte> line);
            if (status == LineReadStatus.NeedMore)
            {
                if (!lines.IsDiscarding)
                    Assert.Equal(before, reader.Consumed);
                return (results, reader.Remaining);
            }

            results.Add(new Result(status, Encoding.Latin1.GetString(line.ToArray())));
        }
    }

    /// <summary>Delivers <paramref name="data"/> in the given chunks the way a pipe does: the unconsumed rest of
    /// the buffer plus the new chunk, as two segments. Returns the lines and the largest buffer held.</summary>
    private static (List<Result> Results, long LargestBuffer) Feed(byte[] data, IReadOnlyList<int> chunkEnds,
        int maxLength = MaxCommandLine)
    {
        var lines = new CommandLineReader();
        var results = new List<Result>();
        byte[] held = [];
        long largest = 0;
        int start = 0;
        foreach (int end in chunkEnds.Append(data.Length))
        {
            byte[] chunk = data[start..end];
            start = end;
            ReadOnlySequence<byte> buffer = SegmentedSequence.Create(held, chunk);
            largest = Math.Max(largest, buffer.Length);
            (List<Result> read, long unconsumed) = ReadAll(ref lines, buffer, maxLength);
            results.AddRange(read);
            held = buffer.Slice(buffer.Length - unconsumed).ToArray();
        }

        return (results, largest);
    }

    private static readonly string[] s_inputs =
    [
        "HELO client.example\r\n",
        "EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n",
        "\r\nNOOP\r\n",
        "NOOP\nQUIT\r\n",
        "HE\rLO x\r\nNOOP\r\n",
        "RSET\r\r\nNOOP\r\n",
        new string('a', 510) + "\r\nNOOP\r\n",
        new string('a', 511) + "\r\nNOOP\r\n",
        new string('a', 511) + "\nNOOP\r\n",
        new string('a', 700) + "\r\n" + new string('b', 600) + "\nNOOP\r\n",
        "QUIT",
    ];

    [Fact]
    public void CommandLineReaderReadsCrlfLine()
    {
        var lines = new CommandLineReader();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("HELO client.example\r\nNOOP")));

        Assert.Equal(LineReadStatus.Line, lines.TryReadLine(ref reader, MaxCommandLine, out ReadOnlySequence<byte> line));
        Assert.Equal("HELO client.example", Encoding.Latin1.GetString(line.ToArray()));
        Assert.Equal(21, reader.Consumed);
        Assert.Equal(LineReadStatus.NeedMore, lines.TryReadLine(ref reader, MaxCommandLine, out _));
        Assert.Equal(21, reader.Consumed);
    }

    [Fact]
    public void CommandLineReaderReturnsEmptyLine()
    {
        var lines = new CommandLineReader();
        (List<Result> results, long unconsumed) = ReadAll(ref lines, new ReadOnlySequence<byte>(Bytes("\r\n")));
        Assert.Equal([new Result(LineReadStatus.Line, "")], results);
        Assert.Equal(0, unconsumed);
    }

    [Fact]
    public void CommandLineReaderLeavesIncompleteLineUnconsumed()
    {
        var lines = new CommandLineReader();
        var reader = new SequenceReader<byte>(SegmentedSequence.Split(Bytes("MAIL FROM:<a@b>\r"), 4, 9));
        Assert.Equal(LineReadStatus.NeedMore, lines.TryReadLine(ref reader, MaxCommandLine, out ReadOnlySequence<byte> line));
        Assert.Equal(0, reader.Consumed);
        Assert.True(line.IsEmpty);
    }

    [Fact]
    public void CommandLineReaderReportsBareLfAndConsumesTheLine()
    {
        var lines = new CommandLineReader();
        (List<Result> results, _) = ReadAll(ref lines, new ReadOnlySequence<byte>(Bytes("NOOP\nQUIT\r\n")));
        Assert.Equal([new Result(LineReadStatus.BareLf, "NOOP"), new Result(LineReadStatus.Line, "QUIT")], results);
    }

    [Fact]
    public void CommandLineReaderKeepsCrInsideLineAsContent()
    {
        var lines = new CommandLineReader();
        (List<Result> results, _) = ReadAll(ref lines, new ReadOnlySequence<byte>(Bytes("HE\rLO\r\r\n")));
        Assert.Equal([new Result(LineReadStatus.Line, "HE\rLO\r")], results);
    }

    [Fact]
    public void CommandLineReaderAccepts510OctetsOfContent()
    {
        var lines = new CommandLineReader();
        string content = new('a', 510);
        (List<Result> results, _) = ReadAll(ref lines, new ReadOnlySequence<byte>(Bytes(content + "\r\n")));
        Assert.Equal([new Result(LineReadStatus.Line, content)], results);
    }

    [Fact]
    public void CommandLineReaderRejects511OctetsOfContentAndReadsTheNextLine()
    {
        var lines = new CommandLineReader();
        (List<Result> results, long unconsumed) =
            ReadAll(ref lines, new ReadOnlySequence<byte>(Bytes(new string('a', 511) + "\r\nNOOP\r\n")));
        Assert.Equal([new Result(LineReadStatus.TooLong, ""), new Result(LineReadStatus.Line, "NOOP")], results);
        Assert.Equal(0, unconsumed);
    }

    [Fact]
    public void CommandLineReaderReportsLongLineOverManyReadsOnceWithoutGrowingTheBuffer()
    {
        byte[] data = Bytes(new string('x', 5000) + "\r\nQUIT\r\n");
        int[] chunkEnds = Enumerable.Range(1, 50).Select(i => i * 100).ToArray();

        (List<Result> results, long largest) = Feed(data, chunkEnds);

        Assert.Equal([new Result(LineReadStatus.TooLong, ""), new Result(LineReadStatus.Line, "QUIT")], results);
        Assert.True(largest <= MaxCommandLine + 100, $"buffer grew to {largest}");
    }

    [Fact]
    public void CommandLineReaderConsumesEverythingWhileDiscarding()
    {
        var lines = new CommandLineReader();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(new string('x', 600))));
        Assert.Equal(LineReadStatus.NeedMore, lines.TryReadLine(ref reader, MaxCommandLine, out _));
        Assert.True(lines.IsDiscarding);
        Assert.Equal(600, reader.Consumed);

        reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("yyy\r\nNOOP\r\n")));
        Assert.Equal(LineReadStatus.TooLong, lines.TryReadLine(ref reader, MaxCommandLine, out _));
        Assert.Equal(LineReadStatus.Line, lines.TryReadLine(ref reader, MaxCommandLine, out ReadOnlySequence<byte> line));
        Assert.Equal("NOOP", Encoding.Latin1.GetString(line.ToArray()));
    }

    [Fact]
    public void CommandLineReaderResetStopsDiscarding()
    {
        var lines = new CommandLineReader();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(new string('x', 600))));
        lines.TryReadLine(ref reader, MaxCommandLine, out _);
        lines.Reset();

        reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("NOOP\r\n")));
        Assert.Equal(LineReadStatus.Line, lines.TryReadLine(ref reader, MaxCommandLine, out _));
    }

    [Fact]
    public void CommandLineReaderReadsLineSpreadOverManySegments()
    {
        var lines = new CommandLineReader();
        byte[] data = Bytes("MAIL FROM:<a@b>\r\nQUIT\r\n");
        (List<Result> results, _) = ReadAll(ref lines, SegmentedSequence.Split(data, 0, 1, 1, 5, 16, 16, 17));
        Assert.Equal([new Result(LineReadStatus.Line, "MAIL FROM:<a@b>"), new Result(LineReadStatus.Line, "QUIT")],
            results);
    }

    [Fact]
    public void CommandLineReaderGivesSameLinesAtEveryTwoSegmentSplit()
    {
        foreach (string input in s_inputs)
        {
            byte[] data = Bytes(input);
            var whole = new CommandLineReader();
            (List<Result> expected, long expectedRest) = ReadAll(ref whole, new ReadOnlySequence<byte>(data));
            for (int split = 0; split <= data.Length; split++)
            {
                var lines = new CommandLineReader();
                (List<Result> results, long rest) = ReadAll(ref lines, SegmentedSequence.Split(data, split));
                Assert.Equal(expected, results);
                Assert.Equal(expectedRest, rest);
            }
        }
    }

    [Fact]
    public void CommandLineReaderGivesSameLinesWhenInputArrivesInTwoReadsAtEverySplit()
    {
        foreach (string input in s_inputs)
        {
            byte[] data = Bytes(input);
            (List<Result> expected, _) = Feed(data, []);
            for (int split = 0; split <= data.Length; split++)
                Assert.Equal(expected, Feed(data, [split]).Results);
        }
    }

    [Fact]
    public void CommandLineReaderGivesSameLinesWhenInputArrivesByteByByte()
    {
        foreach (string input in s_inputs)
        {
            byte[] data = Bytes(input);
            (List<Result> expected, _) = Feed(data, []);
            (List<Result> results, long largest) = Feed(data, Enumerable.Range(1, data.Length - 1).ToArray());
            Assert.Equal(expected, results);
            Assert.True(largest <= MaxCommandLine + 1);
        }
    }

    [Fact]
    public void CommandLineReaderExpectedResultsForBoundaryInputs()
    {
        (List<Result> results, _) = Feed(Bytes(new string('a', 700) + "\r\n" + new string('b', 600) + "\nNOOP\r\n"), []);
        Assert.Equal(
            [new Result(LineReadStatus.TooLong, ""), new Result(LineReadStatus.TooLong, ""), new Result(LineReadStatus.Line, "NOOP")],
            results);

        (results, _) = Feed(Bytes(new string('a', 511) + "\nNOOP\r\n"), []);
        Assert.Equal([new Result(LineReadStatus.BareLf, new string('a', 511)), new Result(LineReadStatus.Line, "NOOP")],
            results);
    }
}
