using System.Text;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Protocols.Tests.Smtp;

public sealed class MessageTextScannerTests
{
    private const int MaxTextLine = 1000;

    private static readonly int[] s_outputSizes = [1, 2, 3, 7];

    private readonly record struct ScanResult(TextScanStatus Status, string Output, long Consumed, bool LineTooLong,
        int ReceivedHeaders);

    private static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);

    private static MessageTextScanner Create(bool data, int maxLineLength = MaxTextLine) =>
        data ? MessageTextScanner.ForData(maxLineLength) : MessageTextScanner.ForBdat(maxLineLength);

    /// <summary>Feeds <paramref name="input"/> in pieces ending at <paramref name="pieceEnds"/>, writing into
    /// output windows of <paramref name="outputSize"/> octets, until a terminal status or the end of the input.</summary>
    private static ScanResult Run(MessageTextScanner scanner, byte[] input, IEnumerable<int> pieceEnds,
        int outputSize = 1 << 16, bool finish = false)
    {
        var output = new List<byte>();
        byte[] window = new byte[outputSize];
        int used = 0;
        long consumedTotal = 0;
        TextScanStatus status = TextScanStatus.NeedMoreInput;
        bool terminal = false;
        int start = 0;
        foreach (int end in pieceEnds.Append(input.Length))
        {
            ReadOnlySpan<byte> piece = input.AsSpan(start, end - start);
            start = end;
            while (true)
            {
                status = scanner.Scan(piece, window.AsSpan(used), out int consumed, out int written);
                Assert.InRange(consumed, 0, piece.Length);
                output.AddRange(window.AsSpan(used, written));
                used += written;
                consumedTotal += consumed;
                piece = piece[consumed..];
                if (status == TextScanStatus.OutputFull)
                {
                    Assert.Equal(outputSize, used);
                    Assert.False(piece.IsEmpty);
                    used = 0;
                    continue;
                }

                if (status == TextScanStatus.NeedMoreInput)
                    Assert.True(piece.IsEmpty);
                else
                    terminal = true;
                break;
            }

            if (terminal)
                break;
        }

        if (finish && !terminal)
            status = scanner.Finish();
        return new ScanResult(status, Encoding.Latin1.GetString(output.ToArray()), consumedTotal, scanner.LineTooLong,
            scanner.ReceivedHeaders);
    }

    private static ScanResult RunWhole(bool data, string input, int maxLineLength = MaxTextLine, bool finish = false) =>
        Run(Create(data, maxLineLength), Bytes(input), [], finish: finish);

    /// <summary>Splits at every point and byte by byte, with small output windows; all must match one piece.</summary>
    private static void AssertSameAtEverySplit(bool data, byte[] input, int maxLineLength, int[] outputSizes,
        bool finish = false)
    {
        ScanResult expected = Run(Create(data, maxLineLength), input, [], finish: finish);
        foreach (int outputSize in outputSizes)
        {
            for (int split = 0; split <= input.Length; split++)
                Assert.Equal(expected, Run(Create(data, maxLineLength), input, [split], outputSize, finish));
            Assert.Equal(expected, Run(Create(data, maxLineLength), input, Enumerable.Range(1, Math.Max(0, input.Length - 1)),
                outputSize, finish));
        }
    }

    /// <summary>Independent statement of the rules, octet by octet over the whole input: the first bare CR
    /// (found at the octet after it), bare LF or NUL, or in DATA the LF of a CRLF "." CRLF.</summary>
    private static (TextScanStatus Status, long Consumed) Oracle(byte[] s, bool data)
    {
        for (int i = 0; i < s.Length; i++)
        {
            switch (s[i])
            {
                case (byte)'\r':
                    if (i + 1 < s.Length && s[i + 1] != '\n')
                        return (TextScanStatus.BareCr, i + 1);
                    break;
                case 0:
                    return (TextScanStatus.Nul, i);
                case (byte)'\n':
                    if (i == 0 || s[i - 1] != '\r')
                        return (TextScanStatus.BareLf, i);
                    if (data && i >= 2 && s[i - 2] == '.' && (i == 2 || s[i - 3] == '\n'))
                        return (TextScanStatus.EndOfData, i + 1);
                    break;
            }
        }

        return (TextScanStatus.NeedMoreInput, s.Length);
    }

    [Fact]
    public void DataScannerEndsAtCrlfDotCrlf()
    {
        const string message = "Subject: a\r\n\r\nbody\r\n";
        ScanResult result = RunWhole(true, message + ".\r\nQUIT\r\n");
        Assert.Equal(TextScanStatus.EndOfData, result.Status);
        Assert.Equal(message, result.Output);
        Assert.Equal(message.Length + 3, result.Consumed);
    }

    [Fact]
    public void DataScannerTreatsStartOfDataAsLineStart()
    {
        ScanResult result = RunWhole(true, ".\r\nNOOP\r\n");
        Assert.Equal(new ScanResult(TextScanStatus.EndOfData, "", 3, false, 0), result);

        result = RunWhole(true, "\r\n.\r\n");
        Assert.Equal(new ScanResult(TextScanStatus.EndOfData, "\r\n", 5, false, 0), result);
    }

    [Theory]
    [InlineData("..\r\n.\r\n", ".\r\n")]
    [InlineData(".x\r\n.\r\n", "x\r\n")]
    [InlineData("a\r\n..b\r\n...\r\n.\r\n", "a\r\n.b\r\n..\r\n")]
    [InlineData("a.\r\n.b.\r\n.\r\n", "a.\r\nb.\r\n")]
    [InlineData(". \r\n.\r\n", " \r\n")]
    public void DataScannerUnstuffsLeadingDot(string input, string output)
    {
        ScanResult result = RunWhole(true, input);
        Assert.Equal(TextScanStatus.EndOfData, result.Status);
        Assert.Equal(output, result.Output);
        Assert.Equal(input.Length, result.Consumed);
    }

    [Fact]
    public void DataScannerDoesNotEndAtDotAfterText()
    {
        ScanResult result = RunWhole(true, "abc.\r\n");
        Assert.Equal(new ScanResult(TextScanStatus.NeedMoreInput, "abc.\r\n", 6, false, 0), result);

        result = RunWhole(true, "abc.\r\n.\r\n");
        Assert.Equal(new ScanResult(TextScanStatus.EndOfData, "abc.\r\n", 9, false, 0), result);
    }

    [Fact]
    public void DataScannerCarriesCrAcrossInputs()
    {
        MessageTextScanner scanner = MessageTextScanner.ForData(MaxTextLine);
        byte[] output = new byte[16];
        Assert.Equal(TextScanStatus.NeedMoreInput, scanner.Scan("abc\r"u8, output, out int consumed, out int written));
        Assert.Equal(4, consumed);
        Assert.Equal(4, written);
        Assert.Equal(TextScanStatus.EndOfData, scanner.Scan("\n.\r\nX"u8, output.AsSpan(written), out consumed, out int more));
        Assert.Equal(4, consumed);
        Assert.Equal("abc\r\n", Encoding.Latin1.GetString(output, 0, written + more));
    }

    [Fact]
    public void DataScannerNeedsRoomForLfAfterHeldCr()
    {
        MessageTextScanner scanner = MessageTextScanner.ForData(MaxTextLine);
        byte[] output = new byte[3];
        Assert.Equal(TextScanStatus.OutputFull, scanner.Scan("ab\r\n.\r\n"u8, output, out int consumed, out int written));
        Assert.Equal(3, consumed);
        Assert.Equal("ab\r", Encoding.Latin1.GetString(output, 0, written));
        Assert.Equal(TextScanStatus.EndOfData, scanner.Scan("\n.\r\n"u8, output, out consumed, out written));
        Assert.Equal(4, consumed);
        Assert.Equal("\n", Encoding.Latin1.GetString(output, 0, written));
    }

    [Fact]
    public void DataScannerEndsWithoutOutputRoomForTheTerminator()
    {
        MessageTextScanner scanner = MessageTextScanner.ForData(MaxTextLine);
        Assert.Equal(TextScanStatus.EndOfData, scanner.Scan(".\r\n"u8, Span<byte>.Empty, out int consumed, out int written));
        Assert.Equal(3, consumed);
        Assert.Equal(0, written);
    }

    [Theory]
    [InlineData("abc\n.\n", TextScanStatus.BareLf)]
    [InlineData("abc\n.\r\n", TextScanStatus.BareLf)]
    [InlineData("abc\r.\r", TextScanStatus.BareCr)]
    [InlineData("abc\r.\r\n", TextScanStatus.BareCr)]
    [InlineData("abc\r\n.\n", TextScanStatus.BareLf)]
    [InlineData("abc\r\n.\rx", TextScanStatus.BareCr)]
    [InlineData("abc\r\n.\r\r\n", TextScanStatus.BareCr)]
    [InlineData("abc\r\n.\r\0\n", TextScanStatus.BareCr)]
    [InlineData("abc\r\n.\0\r\n", TextScanStatus.Nul)]
    [InlineData("abc\r\n\0.\r\n", TextScanStatus.Nul)]
    [InlineData("abc\0\r\n.\r\n", TextScanStatus.Nul)]
    [InlineData("abc\r\0\n.\r\n", TextScanStatus.BareCr)]
    [InlineData("abc\r\n\r.\r\n", TextScanStatus.BareCr)]
    [InlineData("abc\r\n\n.\r\n", TextScanStatus.BareLf)]
    [InlineData("abc\r\n..\n", TextScanStatus.BareLf)]
    [InlineData("abc\r\n.\n\r\n", TextScanStatus.BareLf)]
    [InlineData("abc\r\n\r\r\n.\r\n", TextScanStatus.BareCr)]
    [InlineData("\n.\r\n", TextScanStatus.BareLf)]
    [InlineData(".\n", TextScanStatus.BareLf)]
    [InlineData(".\r.\r\n", TextScanStatus.BareCr)]
    public void DataScannerRefusesSmugglingAttempts(string smuggled, TextScanStatus expected)
    {
        byte[] input = Bytes(smuggled + "MAIL FROM:<evil@example>\r\n\r\n.\r\n");
        ScanResult result = Run(Create(true), input, []);
        Assert.Equal(expected, result.Status);
        Assert.Equal(Oracle(input, true), (result.Status, result.Consumed));
        AssertSameAtEverySplit(true, input, MaxTextLine, [1, 7]);
    }

    [Fact]
    public void DataScannerSmugglingMatrixNeverEndsEarly()
    {
        string[] pieces = ["", "\r", "\n", "\r\n", "\0", "\n\r", "\r\r", "\n\n", "\r\n\r", "\r\0", "\0\r\n", "\r\n\0", "\r\n\r\n", "x"];
        foreach (string before in pieces)
        {
            foreach (string after in pieces)
            {
                string body = "Subject: t\r\n\r\nline" + before + "." + after + "tail";
                byte[] input = Bytes(body + "\r\n.\r\n");
                ScanResult result = Run(Create(true), input, []);
                (TextScanStatus status, long consumed) = Oracle(input, true);
                Assert.Equal((status, consumed), (result.Status, result.Consumed));

                string head = "Subject: t\r\n\r\nline" + before;
                bool headClean = Oracle(Bytes(head), false).Status == TextScanStatus.NeedMoreInput;
                bool bodyClean = Oracle(Bytes(body + "\r\n"), false).Status == TextScanStatus.NeedMoreInput;
                bool endLine = before.EndsWith("\r\n", StringComparison.Ordinal)
                    && after.StartsWith("\r\n", StringComparison.Ordinal);
                if (headClean && endLine)
                {
                    // A genuine CRLF "." CRLF: what follows belongs to the next command.
                    Assert.Equal(TextScanStatus.EndOfData, result.Status);
                    Assert.Equal(head.Length + 3, result.Consumed);
                }
                else if (bodyClean)
                {
                    Assert.Equal(TextScanStatus.EndOfData, result.Status);
                    Assert.Equal(input.Length, result.Consumed);
                }
                else
                {
                    Assert.True(result.Status is TextScanStatus.BareCr or TextScanStatus.BareLf or TextScanStatus.Nul,
                        $"{Escape(before)} . {Escape(after)} gave {result.Status}");
                }

                Assert.Equal(result, Run(Create(true), input, Enumerable.Range(1, input.Length - 1), 1));
                for (int split = 0; split <= input.Length; split++)
                    Assert.Equal(result, Run(Create(true), input, [split], 7));
            }
        }
    }

    private static string Escape(string s) => s.Replace("\r", "\\r").Replace("\n", "\\n").Replace("\0", "\\0");

    [Theory]
    [InlineData("abc\rdef", TextScanStatus.BareCr)]
    [InlineData("abc\ndef", TextScanStatus.BareLf)]
    [InlineData("abc\0def", TextScanStatus.Nul)]
    [InlineData("\n", TextScanStatus.BareLf)]
    [InlineData("\0", TextScanStatus.Nul)]
    [InlineData("a\r\r\n", TextScanStatus.BareCr)]
    public void ScannerRefusesBareCrBareLfAndNulInDataAndBdat(string input, TextScanStatus expected)
    {
        Assert.Equal(expected, RunWhole(true, input).Status);
        Assert.Equal(expected, RunWhole(false, input, finish: true).Status);
    }

    [Fact]
    public void ScannerRepeatsTerminalStatus()
    {
        MessageTextScanner scanner = MessageTextScanner.ForData(MaxTextLine);
        byte[] output = new byte[16];
        Assert.Equal(TextScanStatus.BareLf, scanner.Scan("a\nb"u8, output, out int consumed, out _));
        Assert.Equal(1, consumed);
        Assert.Equal(TextScanStatus.BareLf, scanner.Scan("\r\n.\r\n"u8, output, out consumed, out int written));
        Assert.Equal(0, consumed);
        Assert.Equal(0, written);
        Assert.Equal(TextScanStatus.BareLf, scanner.Finish());
    }

    [Fact]
    public void BdatScannerCopiesOctetsWithoutDotHandling()
    {
        ScanResult result = RunWhole(false, ".\r\n..x\r\n\r\n.\r\n", finish: false);
        Assert.Equal(new ScanResult(TextScanStatus.NeedMoreInput, ".\r\n..x\r\n\r\n.\r\n", 13, false, 0), result);
    }

    [Fact]
    public void BdatScannerFinishesCleanlyOrWithPendingCr()
    {
        Assert.Equal(TextScanStatus.EndOfData, RunWhole(false, "Subject: x\r\n\r\nbody\r\n", finish: true).Status);
        Assert.Equal(TextScanStatus.EndOfData, RunWhole(false, "no final line end", finish: true).Status);
        Assert.Equal(TextScanStatus.EndOfData, RunWhole(false, "", finish: true).Status);
        Assert.Equal(TextScanStatus.BareCr, RunWhole(false, "abc\r", finish: true).Status);
    }

    [Fact]
    public void BdatScannerJoinsCrAndLfAcrossChunks()
    {
        MessageTextScanner scanner = MessageTextScanner.ForBdat(MaxTextLine);
        byte[] output = new byte[8];
        Assert.Equal(TextScanStatus.NeedMoreInput, scanner.Scan("ab\r"u8, output, out _, out _));
        Assert.Equal(TextScanStatus.NeedMoreInput, scanner.Scan("\n"u8, output, out _, out int written));
        Assert.Equal(1, written);
        Assert.Equal(TextScanStatus.EndOfData, scanner.Finish());
    }

    [Fact]
    public void ScannerAcceptsLineOfExactlyMaxLength()
    {
        string line = new string('a', MaxTextLine - 2) + "\r\n";
        Assert.False(RunWhole(true, line + ".\r\n").LineTooLong);
        Assert.False(RunWhole(false, line, finish: true).LineTooLong);
    }

    [Fact]
    public void ScannerFlagsLineOneOctetOverMaxLength()
    {
        string line = new string('a', MaxTextLine - 1) + "\r\n";
        ScanResult result = RunWhole(true, line + "short\r\n.\r\n");
        Assert.True(result.LineTooLong);
        Assert.Equal(TextScanStatus.EndOfData, result.Status);
        Assert.Equal(line + "short\r\n", result.Output);
        Assert.True(RunWhole(false, line, finish: true).LineTooLong);
    }

    [Fact]
    public void DataScannerDoesNotCountStuffedDot()
    {
        string stuffed = "." + new string('a', MaxTextLine - 2) + "\r\n";
        Assert.False(RunWhole(true, stuffed + ".\r\n").LineTooLong);
        Assert.True(RunWhole(true, "." + new string('a', MaxTextLine - 1) + "\r\n.\r\n").LineTooLong);
        Assert.True(RunWhole(false, stuffed, finish: true).LineTooLong); // BDAT: the dot is text
    }

    [Fact]
    public void ScannerCountsLineLengthAcrossInputs()
    {
        byte[] exact = Bytes("hdr: 1\r\n\r\n" + new string('b', 18) + "\r\n.\r\n");
        byte[] over = Bytes("hdr: 1\r\n\r\n" + new string('b', 19) + "\r\n.\r\n");
        byte[] stuffed = Bytes("hdr: 1\r\n\r\n." + new string('b', 18) + "\r\n.\r\n");
        Assert.False(Run(Create(true, 20), exact, []).LineTooLong);
        Assert.True(Run(Create(true, 20), over, []).LineTooLong);
        Assert.False(Run(Create(true, 20), stuffed, []).LineTooLong);
        AssertSameAtEverySplit(true, exact, 20, s_outputSizes);
        AssertSameAtEverySplit(true, over, 20, s_outputSizes);
        AssertSameAtEverySplit(true, stuffed, 20, s_outputSizes);
        AssertSameAtEverySplit(false, over, 20, s_outputSizes, finish: true);
    }

    private const string ReceivedMessage =
        "Received: from a\r\n" +
        "received: from b\r\n" +
        "RECEIVED:from c\r\n" +
        "X-Received: no\r\n" +
        "Received : no\r\n" +
        "\tReceived: folded, no\r\n" +
        "ReceivedX: no\r\n" +
        "Received\r\n" +
        "Receive: no\r\n" +
        "Subject: Received: no\r\n" +
        "\r\n" +
        "Received: in the body, no\r\n";

    [Fact]
    public void ScannerCountsReceivedHeaderFieldsOnlyInHeaderSection()
    {
        Assert.Equal(3, RunWhole(true, ReceivedMessage + ".\r\n").ReceivedHeaders);
        Assert.Equal(3, RunWhole(false, ReceivedMessage, finish: true).ReceivedHeaders);
        Assert.Equal(0, RunWhole(true, "\r\nReceived: x\r\n.\r\n").ReceivedHeaders);
        Assert.Equal(1, RunWhole(true, ".Received: stuffed\r\n.\r\n").ReceivedHeaders);
        Assert.Equal(1, RunWhole(true, "Received:\r\n.\r\n").ReceivedHeaders);
    }

    [Fact]
    public void ScannerCountsReceivedHeaderFieldsAtEverySplit()
    {
        AssertSameAtEverySplit(true, Bytes(ReceivedMessage + ".\r\n"), MaxTextLine, s_outputSizes);
        AssertSameAtEverySplit(false, Bytes(ReceivedMessage), MaxTextLine, s_outputSizes, finish: true);
    }

    public static TheoryData<string> SplitCorpus() =>
    [
        "Subject: hi\r\nFrom: a@b\r\n\r\nHello\r\n..dots\r\n.x\r\n\r\n.\r\nQUIT\r\n",
        ".\r\n",
        "\r\n.\r\n",
        "abc.\r\n",
        "a\r\n.\r",
        "a\r\n.",
        "a\r",
        "abc\r\n.\rx",
        "abc\r\n.\nx",
        "abc\0\r\n",
        "line\r\nline\r\n\r\n\r\n..\r\n..\r\n.\r\n",
    ];

    [Theory]
    [MemberData(nameof(SplitCorpus))]
    public void DataScannerGivesSameResultAtEverySplitAndOutputSize(string input)
    {
        AssertSameAtEverySplit(true, Bytes(input), MaxTextLine, s_outputSizes);
    }

    [Theory]
    [MemberData(nameof(SplitCorpus))]
    public void BdatScannerGivesSameResultAtEverySplitAndOutputSize(string input)
    {
        AssertSameAtEverySplit(false, Bytes(input), MaxTextLine, s_outputSizes, finish: true);
    }

    [Fact]
    public void DataScannerCopiesLargeMessageIntact()
    {
        var text = new StringBuilder();
        var expected = new StringBuilder();
        var random = new Random(5321);
        for (int i = 0; i < 2000; i++)
        {
            string line = new string((char)('a' + random.Next(26)), random.Next(0, 120));
            bool dot = random.Next(10) == 0;
            text.Append(dot ? "." : "").Append(dot ? "." : "").Append(line).Append("\r\n");
            expected.Append(dot ? "." : "").Append(line).Append("\r\n");
        }

        string input = text.Append(".\r\n").ToString();
        byte[] bytes = Bytes(input);
        ScanResult whole = Run(Create(true), bytes, []);
        Assert.Equal(TextScanStatus.EndOfData, whole.Status);
        Assert.Equal(expected.ToString(), whole.Output);
        Assert.Equal(bytes.Length, whole.Consumed);
        Assert.Equal(whole, Run(Create(true), bytes, Enumerable.Range(1, bytes.Length / 997).Select(i => i * 997), 4096));
    }

    [Fact]
    public void ScannerFactoriesRejectUselessLineLimits()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageTextScanner.ForData(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageTextScanner.ForBdat(int.MaxValue));
    }
}
