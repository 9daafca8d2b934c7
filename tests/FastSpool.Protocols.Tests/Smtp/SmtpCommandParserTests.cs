using System.Buffers;
using System.Text;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Protocols.Tests.Smtp;

public sealed class SmtpCommandParserTests
{
    private static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);

    private static string Text(ReadOnlySpan<byte> s) => Encoding.Latin1.GetString(s);

    [Theory]
    [InlineData("HELO", SmtpVerb.Helo)]
    [InlineData("EHLO", SmtpVerb.Ehlo)]
    [InlineData("MAIL", SmtpVerb.Mail)]
    [InlineData("RCPT", SmtpVerb.Rcpt)]
    [InlineData("DATA", SmtpVerb.Data)]
    [InlineData("BDAT", SmtpVerb.Bdat)]
    [InlineData("RSET", SmtpVerb.Rset)]
    [InlineData("NOOP", SmtpVerb.Noop)]
    [InlineData("QUIT", SmtpVerb.Quit)]
    [InlineData("VRFY", SmtpVerb.Vrfy)]
    [InlineData("EXPN", SmtpVerb.Expn)]
    [InlineData("HELP", SmtpVerb.Help)]
    [InlineData("STARTTLS", SmtpVerb.StartTls)]
    [InlineData("AUTH", SmtpVerb.Auth)]
    public void ParseVerbRecognisesEveryVerbInAnyCase(string verb, SmtpVerb expected)
    {
        Assert.Equal(expected, SmtpCommandParser.ParseVerb(Bytes(verb), out ReadOnlySpan<byte> argument));
        Assert.True(argument.IsEmpty);
        Assert.Equal(expected, SmtpCommandParser.ParseVerb(Bytes(verb.ToLowerInvariant()), out _));
        string mixed = string.Concat(verb.Select((c, i) => i % 2 == 0 ? char.ToLowerInvariant(c) : c));
        Assert.Equal(expected, SmtpCommandParser.ParseVerb(Bytes(mixed + " x"), out argument));
        Assert.Equal("x", Text(argument));
    }

    [Theory]
    [InlineData("")]
    [InlineData("HEL")]
    [InlineData("HELOX")]
    [InlineData("HELO\tx")]
    [InlineData(" HELO x")]
    [InlineData("STARTTLX")]
    [InlineData("MAIL:")]
    [InlineData("H\u00c9LO")]
    [InlineData("GET / HTTP/1.1")]
    [InlineData("@AIL")]
    [InlineData("\rAIL")]
    public void ParseVerbReturnsUnknownForOtherVerbs(string line)
    {
        Assert.Equal(SmtpVerb.Unknown, SmtpCommandParser.ParseVerb(Bytes(line), out _));
    }

    [Theory]
    [InlineData("MAIL FROM:<a@b>", "FROM:<a@b>")]
    [InlineData("MAIL   FROM:<a@b>  ", "FROM:<a@b>")]
    [InlineData("MAIL FROM:<a@b>\t \t", "FROM:<a@b>")]
    [InlineData("MAIL \tFROM:<a@b>", "\tFROM:<a@b>")]
    [InlineData("NOOP ", "")]
    [InlineData("EHLO client.example", "client.example")]
    public void ParseVerbTrimsArgument(string line, string argument)
    {
        SmtpCommandParser.ParseVerb(Bytes(line), out ReadOnlySpan<byte> actual);
        Assert.Equal(argument, Text(actual));
    }

    [Theory]
    [InlineData("client.example", true)]
    [InlineData("localhost", true)]
    [InlineData("[192.0.2.1]", true)]
    [InlineData("[IPv6:2001:db8::1]", true)]
    [InlineData("under_score.example", true)]
    [InlineData("b\u00fccher.example", true)]
    [InlineData("", false)]
    [InlineData("two words", false)]
    [InlineData("tab\there", false)]
    [InlineData("nul\0", false)]
    [InlineData("cr\r", false)]
    [InlineData("del\u007f", false)]
    public void IsValidHeloArgumentAcceptsPrintableNames(string argument, bool valid)
    {
        Assert.Equal(valid, SmtpCommandParser.IsValidHeloArgument(Encoding.UTF8.GetBytes(argument)));
    }

    [Fact]
    public void IsValidHeloArgumentRejectsInvalidUtf8()
    {
        Assert.False(SmtpCommandParser.IsValidHeloArgument([(byte)'a', 0xC3, 0x28]));
        Assert.False(SmtpCommandParser.IsValidHeloArgument([0xFF]));
    }

    [Theory]
    [InlineData("0", 0L, false)]
    [InlineData("1", 1L, false)]
    [InlineData("1048576", 1048576L, false)]
    [InlineData("007", 7L, false)]
    [InlineData("100 LAST", 100L, true)]
    [InlineData("100 last", 100L, true)]
    [InlineData("0 LaSt", 0L, true)]
    [InlineData("5  LAST", 5L, true)]
    [InlineData("9223372036854775807", long.MaxValue, false)]
    public void TryParseBdatReadsSizeAndLast(string argument, long size, bool last)
    {
        Assert.Equal(BdatParseResult.Ok, SmtpCommandParser.TryParseBdat(Bytes(argument), out long chunkSize, out bool isLast));
        Assert.Equal(size, chunkSize);
        Assert.Equal(last, isLast);
    }

    [Theory]
    [InlineData("")]
    [InlineData("LAST")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1x")]
    [InlineData("1 LASTX")]
    [InlineData("1 LAS")]
    [InlineData("1 LAST x")]
    [InlineData("1\tLAST")]
    [InlineData("1,000")]
    [InlineData(" 1")]
    public void TryParseBdatRejectsMalformedArguments(string argument)
    {
        Assert.Equal(BdatParseResult.Syntax, SmtpCommandParser.TryParseBdat(Bytes(argument), out _, out _));
    }

    [Fact]
    public void TryParseBdatReportsOverflowingSize()
    {
        Assert.Equal(BdatParseResult.SizeOverflow,
            SmtpCommandParser.TryParseBdat(Bytes("9223372036854775808 LAST"), out long size, out bool last));
        Assert.Equal(long.MaxValue, size);
        Assert.True(last);
        Assert.Equal(BdatParseResult.Syntax, SmtpCommandParser.TryParseBdat(Bytes("99999999999999999999 NOW"), out _, out _));
    }

    /// <summary>Reads the next line and parses its verb as the session does: a line that crosses segments is
    /// copied to a contiguous buffer first.</summary>
    private static ReadOnlySpan<byte> NextArgument(ref CommandLineReader lines, ref SequenceReader<byte> reader,
        byte[] copy, SmtpVerb verb)
    {
        Assert.Equal(LineReadStatus.Line, lines.TryReadLine(ref reader, 512, out ReadOnlySequence<byte> line));
        line.CopyTo(copy);
        Assert.Equal(verb, SmtpCommandParser.ParseVerb(copy.AsSpan(0, (int)line.Length), out ReadOnlySpan<byte> argument));
        return argument;
    }

    [Fact]
    public void CommandLinesParseTheSameAtEverySplitOfTheirInput()
    {
        byte[] data = Bytes("MAIL FROM:<\"j d\"@[192.0.2.1]> SIZE=1000 BODY=8BITMIME\r\n"
            + "MAIL FROM:<a@b> RET=HDRS ENVID=QQ+2B1 SIZE=10\r\n"
            + "RCPT TO:<c@d> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;c+2Bx@d\r\n");
        byte[] copy = new byte[512];
        for (int split = 0; split <= data.Length; split++)
        {
            var lines = new CommandLineReader();
            var reader = new SequenceReader<byte>(SegmentedSequence.Split(data, split));

            ReadOnlySpan<byte> argument = NextArgument(ref lines, ref reader, copy, SmtpVerb.Mail);
            Assert.Equal(ArgumentError.None, SmtpCommandParser.TryParseMailFrom(argument, out MailFromCommand mail));
            Assert.Equal("\"j d\"@[192.0.2.1]", Text(mail.GetReversePath(argument)));
            Assert.Equal(1000, mail.Size);
            Assert.Equal(BodyType.EightBitMime, mail.Body);

            argument = NextArgument(ref lines, ref reader, copy, SmtpVerb.Mail);
            Assert.Equal(ArgumentError.None, SmtpCommandParser.TryParseMailFrom(argument, out mail));
            Assert.Equal(DsnReturn.Headers, mail.Ret);
            Assert.Equal("QQ+2B1", Text(mail.GetEnvId(argument)));
            Assert.Equal(10, mail.Size);

            argument = NextArgument(ref lines, ref reader, copy, SmtpVerb.Rcpt);
            Assert.Equal(ArgumentError.None, SmtpCommandParser.TryParseRcptTo(argument, false, out RcptToCommand rcpt));
            Assert.Equal(DsnNotify.Success | DsnNotify.Delay, rcpt.Notify);
            Assert.Equal("rfc822;c+2Bx@d", Text(rcpt.GetOriginalRecipient(argument)));
            Assert.Equal("c@d", Text(rcpt.GetForwardPath(argument)));
        }
    }
}
