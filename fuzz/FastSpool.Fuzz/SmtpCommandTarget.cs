using System.Buffers;
using FastSpool.Protocols.Smtp;
using FastSpool.Protocols.Tests;

namespace FastSpool.Fuzz;

/// <summary>Command lines as a session reads them: the input (after its first octet, which picks where it is split
/// in two segments) is cut into lines by <see cref="CommandLineReader"/>, and each line goes through the verb parser
/// and every argument parser, whose ranges are then sliced (a range outside the line throws).</summary>
internal static class SmtpCommandTarget
{
    private const int MaxLine = 512;

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return;
        byte[] data = input[1..].ToArray();
        int split = data.Length == 0 ? 0 : input[0] % (data.Length + 1);
        ReadOnlySequence<byte> sequence = SegmentedSequence.Split(data, split);
        var reader = new SequenceReader<byte>(sequence);
        var lines = new CommandLineReader();
        while (true)
        {
            long before = reader.Consumed;
            LineReadStatus status = lines.TryReadLine(ref reader, MaxLine, out ReadOnlySequence<byte> line);
            if (status == LineReadStatus.NeedMore)
                break;
            FuzzAssert.True(reader.Consumed > before, "a line was read without consuming input");
            if (status is LineReadStatus.Line or LineReadStatus.BareLf)
            {
                FuzzAssert.True(line.Length <= MaxLine - 1, "a line longer than the limit was returned");
                Command(line.ToArray());
            }
        }
    }

    private static void Command(byte[] line)
    {
        SmtpVerb verb = SmtpCommandParser.ParseVerb(line, out ReadOnlySpan<byte> argument);
        FuzzAssert.True(Enum.IsDefined(verb), "unknown verb value");
        SmtpCommandParser.IsValidHeloArgument(argument);
        if (SmtpCommandParser.TryParseBdat(argument, out long size, out _) == BdatParseResult.Ok)
            FuzzAssert.True(size >= 0, "negative BDAT size");

        ArgumentError mailError = SmtpCommandParser.TryParseMailFrom(argument, out MailFromCommand mail);
        if (mailError == ArgumentError.None)
        {
            mail.GetReversePath(argument);
            mail.GetLocalPart(argument);
            mail.GetDomain(argument);
            mail.GetEnvId(argument);
            FuzzAssert.True(mail.Size >= -1, "a SIZE below -1 (none given)");
        }
        else
        {
            mail.GetError(argument);
        }
        foreach (bool utf8 in (ReadOnlySpan<bool>)[false, true])
        {
            ArgumentError rcptError = SmtpCommandParser.TryParseRcptTo(argument, utf8, out RcptToCommand rcpt);
            if (rcptError == ArgumentError.None)
            {
                rcpt.GetForwardPath(argument);
                rcpt.GetLocalPart(argument);
                rcpt.GetDomain(argument);
                rcpt.GetOriginalRecipient(argument);
                FuzzAssert.True(utf8 || !rcpt.HasNonAscii, "a non-ASCII address accepted without SMTPUTF8");
            }
            else
            {
                rcpt.GetError(argument);
            }
        }
    }
}
