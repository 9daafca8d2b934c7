// RFC 5321 §4.2 (reply lines: code, '-' for more lines, SP or end for the last), §4.2.1 (code digits);
// RFC 5321 §4.1.1.1 (EHLO reply: one keyword per line after the first).
using System.Buffers;
using System.Text;

namespace FastSpool.Bench.Smtp;

internal static class ReplyParser
{
    /// <summary>
    /// Reads one whole (possibly multi-line) reply. On <see cref="ReplyReadStatus.Complete"/> the reader is past it,
    /// otherwise it has not moved. Lines end in CRLF (a bare LF is accepted too); every line must carry the first
    /// line's code.
    /// </summary>
    public static ReplyReadStatus TryReadReply(ref SequenceReader<byte> reader, out int code, out ReadOnlySequence<byte> reply)
    {
        code = 0;
        reply = default;
        SequenceReader<byte> r = reader;
        SequencePosition start = r.Position;
        Span<byte> head = stackalloc byte[4];
        while (true)
        {
            if (!r.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n', advancePastDelimiter: true))
                return ReplyReadStatus.Incomplete;
            int headLength = (int)Math.Min(line.Length, head.Length);
            line.Slice(0, headLength).CopyTo(head);
            if (headLength < 3 || !TryParseCode(head[..3], out int lineCode))
                return ReplyReadStatus.Malformed;
            if (code == 0)
                code = lineCode;
            else if (lineCode != code)
                return ReplyReadStatus.Malformed;
            byte separator = headLength == 4 ? head[3] : (byte)' ';
            if (separator == (byte)'-')
                continue;
            if (separator is not ((byte)' ' or (byte)'\r'))
                return ReplyReadStatus.Malformed;
            reply = r.Sequence.Slice(start, r.Position);
            reader = r;
            return ReplyReadStatus.Complete;
        }
    }

    /// <summary>The PIPELINING and CHUNKING keywords of a complete EHLO reply.</summary>
    public static SmtpCapabilities ReadCapabilities(ReadOnlySequence<byte> reply)
    {
        var capabilities = SmtpCapabilities.None;
        var r = new SequenceReader<byte>(reply);
        Span<byte> text = stackalloc byte[32];
        bool greetingLine = true;
        while (r.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n', advancePastDelimiter: true))
        {
            if (greetingLine || line.Length <= 4)
            {
                greetingLine = false;
                continue;
            }
            ReadOnlySequence<byte> rest = line.Slice(4);
            int length = (int)Math.Min(rest.Length, text.Length);
            rest.Slice(0, length).CopyTo(text);
            ReadOnlySpan<byte> keyword = text[..length];
            int end = keyword.IndexOfAny((byte)' ', (byte)'\r');
            if (end >= 0)
                keyword = keyword[..end];
            if (Ascii.EqualsIgnoreCase(keyword, SmtpWire.Pipelining))
                capabilities |= SmtpCapabilities.Pipelining;
            else if (Ascii.EqualsIgnoreCase(keyword, SmtpWire.Chunking))
                capabilities |= SmtpCapabilities.Chunking;
        }
        return capabilities;
    }

    private static bool TryParseCode(ReadOnlySpan<byte> digits, out int code)
    {
        code = 0;
        // RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39; 1yz is tolerated.
        if (digits[0] is < (byte)'1' or > (byte)'5' || digits[1] is < (byte)'0' or > (byte)'9' || digits[2] is < (byte)'0' or > (byte)'9')
            return false;
        code = (digits[0] - '0') * 100 + (digits[1] - '0') * 10 + (digits[2] - '0');
        return true;
    }
}
