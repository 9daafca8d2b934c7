// RFC 5321 §4.2 (reply lines: code, '-' for more lines, SP or end for the last), §4.2.1 (code digits);
// RFC 5321 §4.1.1.1 (EHLO reply: one keyword per line after the first).
using System.Buffers;
using System.Text;

namespace FastSpool.Protocols.Smtp;

/// <summary>SMTP replies as a client reads them: the server's side of the relay, and the load generator's.</summary>
public static class SmtpReplyParser
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

    /// <summary>The keywords of a complete EHLO reply that a client acts on (RFC 5321 §4.1.1.1: one per line after
    /// the first), and the SIZE limit.</summary>
    public static EhloReply ReadExtensions(ReadOnlySequence<byte> reply)
    {
        var extensions = SmtpExtensions.None;
        long maxSize = 0;
        var r = new SequenceReader<byte>(reply);
        Span<byte> text = stackalloc byte[128];
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
            ReadOnlySpan<byte> value = text[..length].TrimEnd("\r"u8);
            int end = value.IndexOf((byte)' ');
            ReadOnlySpan<byte> keyword = end >= 0 ? value[..end] : value;
            ReadOnlySpan<byte> parameters = end >= 0 ? value[(end + 1)..] : default;
            extensions |= Keyword(keyword, parameters, ref maxSize);
        }
        return new EhloReply(extensions, maxSize);
    }

    // Keywords that stand alone; SIZE and AUTH carry parameters.
    private static readonly (byte[] Keyword, SmtpExtensions Extension)[] s_plainKeywords =
    [
        ("PIPELINING"u8.ToArray(), SmtpExtensions.Pipelining),
        ("CHUNKING"u8.ToArray(), SmtpExtensions.Chunking),
        ("8BITMIME"u8.ToArray(), SmtpExtensions.EightBitMime),
        ("SMTPUTF8"u8.ToArray(), SmtpExtensions.SmtpUtf8),
        ("DSN"u8.ToArray(), SmtpExtensions.Dsn),
        ("STARTTLS"u8.ToArray(), SmtpExtensions.StartTls),
        ("ENHANCEDSTATUSCODES"u8.ToArray(), SmtpExtensions.EnhancedStatusCodes),
    ];

    private static SmtpExtensions Keyword(ReadOnlySpan<byte> keyword, ReadOnlySpan<byte> parameters, ref long maxSize)
    {
        foreach ((byte[] known, SmtpExtensions extension) in s_plainKeywords)
        {
            if (Ascii.EqualsIgnoreCase(keyword, known))
                return extension;
        }
        if (Ascii.EqualsIgnoreCase(keyword, "SIZE"u8))
        {
            // RFC 1870 §4: "SIZE" alone, or with the largest size; 0 means no fixed limit.
            if (!parameters.IsEmpty && System.Buffers.Text.Utf8Parser.TryParse(parameters, out long size, out int used) && used == parameters.Length && size > 0)
                maxSize = size;
            return SmtpExtensions.Size;
        }
        if (Ascii.EqualsIgnoreCase(keyword, "AUTH"u8))
        {
            var found = SmtpExtensions.None;
            foreach (Range range in parameters.Split((byte)' '))
            {
                ReadOnlySpan<byte> mechanism = parameters[range];
                if (Ascii.EqualsIgnoreCase(mechanism, "PLAIN"u8))
                    found |= SmtpExtensions.AuthPlain;
                else if (Ascii.EqualsIgnoreCase(mechanism, "LOGIN"u8))
                    found |= SmtpExtensions.AuthLogin;
            }
            return found;
        }
        return SmtpExtensions.None;
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
