using System.Buffers;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Protocols.Tests.Smtp;

public sealed class SmtpParsingAllocationTests
{
    private static readonly byte[] s_commands =
        "MAIL FROM:<\"first last\"@example.com> SIZE=1\r\nMAIL FROM:<user@example.com> SIZE=123456 BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<@relay:rcpt@[192.0.2.1]>\r\nRCPT TO:<Postmaster>\r\nBDAT 100 LAST\r\nHELO client.example\r\n"u8.ToArray();

    private static readonly byte[] s_message =
        "Received: from a\r\nSubject: test\r\n\r\nline one\r\n..stuffed\r\nline three\r\n.\r\n"u8.ToArray();

    private static int ParseEverything(byte[] output)
    {
        int checksum = 0;
        var lines = new CommandLineReader();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(s_commands));
        while (lines.TryReadLine(ref reader, 512, out ReadOnlySequence<byte> line) == LineReadStatus.Line)
        {
            ReadOnlySpan<byte> span = line.FirstSpan;
            switch (SmtpCommandParser.ParseVerb(span, out ReadOnlySpan<byte> argument))
            {
                case SmtpVerb.Mail:
                    checksum += (int)SmtpCommandParser.TryParseMailFrom(argument, out MailFromCommand mail) + mail.PathLength;
                    break;
                case SmtpVerb.Rcpt:
                    checksum += (int)SmtpCommandParser.TryParseRcptTo(argument, false, out RcptToCommand rcpt) + rcpt.PathLength;
                    break;
                case SmtpVerb.Bdat:
                    checksum += (int)SmtpCommandParser.TryParseBdat(argument, out long size, out _) + (int)size;
                    break;
                case SmtpVerb.Helo:
                    checksum += SmtpCommandParser.IsValidHeloArgument(argument) ? 1 : 0;
                    break;
            }
        }

        MessageTextScanner scanner = MessageTextScanner.ForData(1000);
        TextScanStatus status = scanner.Scan(s_message, output, out int consumed, out int written);
        return checksum + (int)status + consumed + written + scanner.ReceivedHeaders;
    }

    [Fact]
    public void ParsingCommandsAndScanningDataAllocatesNothing()
    {
        byte[] output = new byte[256];
        int expected = ParseEverything(output);
        for (int i = 0; i < 1000; i++)
            ParseEverything(output);

        int checksum = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            checksum += ParseEverything(output);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(expected * 1000, checksum);
    }
}
