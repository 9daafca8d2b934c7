using System.Buffers;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Protocols.Tests.Smtp;

public sealed class SmtpParsingAllocationTests
{
    private static readonly byte[] s_commands =
        "MAIL FROM:<\"first last\"@example.com> SIZE=1\r\nMAIL FROM:<user@example.com> SIZE=123456 BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<@relay:rcpt@[192.0.2.1]>\r\nRCPT TO:<Postmaster>\r\nMAIL FROM:<a@b> RET=HDRS ENVID=QQ314159+2B1 SIZE=1\r\nRCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;a+2Bb@example.com\r\nRCPT TO:<c@d> ORCPT=utf-8;j\\x{F6}ran@example.com NOTIFY=NEVER\r\nBDAT 100 LAST\r\nHELO client.example\r\n"u8.ToArray();

    private static readonly byte[] s_message =
        "Received: from a\r\nSubject: test\r\n\r\nline one\r\n..stuffed\r\nline three\r\n.\r\n"u8.ToArray();

    /// <summary>Parses every command and scans the message; <paramref name="refused"/> counts the MAIL and RCPT
    /// arguments refused (none are: an early refusal would skip the work being measured).</summary>
    private static int ParseEverything(byte[] output, out int refused)
    {
        int checksum = 0;
        refused = 0;
        var lines = new CommandLineReader();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(s_commands));
        while (lines.TryReadLine(ref reader, 512, out ReadOnlySequence<byte> line) == LineReadStatus.Line)
        {
            ReadOnlySpan<byte> span = line.FirstSpan;
            switch (SmtpCommandParser.ParseVerb(span, out ReadOnlySpan<byte> argument))
            {
                case SmtpVerb.Mail:
                    ArgumentError mailError = SmtpCommandParser.TryParseMailFrom(argument, out MailFromCommand mail);
                    refused += mailError == ArgumentError.None ? 0 : 1;
                    checksum += mail.PathLength + (int)mail.Ret + mail.GetEnvId(argument).Length;
                    break;
                case SmtpVerb.Rcpt:
                    ArgumentError rcptError = SmtpCommandParser.TryParseRcptTo(argument, false, out RcptToCommand rcpt);
                    refused += rcptError == ArgumentError.None ? 0 : 1;
                    checksum += rcpt.PathLength + (int)rcpt.Notify + rcpt.GetOriginalRecipient(argument).Length;
                    break;
                case SmtpVerb.Bdat:
                    checksum += (int)SmtpCommandParser.TryParseBdat(argument, out long size, out _) + (int)size;
                    break;
                case SmtpVerb.Helo:
                    checksum += SmtpCommandParser.IsValidHeloArgument(argument) ? 1 : 0;
                    break;
            }
        }

        Span<byte> decoded = stackalloc byte[64];
        checksum += Xtext.Decode("rfc822;a+2Bb@example.com"u8, decoded);
        checksum += Xtext.Encode("a+b=c"u8, decoded) + Xtext.GetEncodedLength("a+b=c"u8);

        MessageTextScanner scanner = MessageTextScanner.ForData(1000);
        TextScanStatus status = scanner.Scan(s_message, output, out int consumed, out int written);
        return checksum + (int)status + consumed + written + scanner.ReceivedHeaders;
    }

    [Fact]
    public void ParsingCommandsAndScanningDataAllocatesNothing()
    {
        byte[] output = new byte[256];
        int expected = ParseEverything(output, out int refused);
        Assert.Equal(0, refused);
        for (int i = 0; i < 1000; i++)
            ParseEverything(output, out _);

        int checksum = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            checksum += ParseEverything(output, out _);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(expected * 1000, checksum);
    }
}
