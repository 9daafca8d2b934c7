using System.Buffers;
using System.Text;
using MimeKit;

namespace FastSpool.Delivery.Bounces;

/// <summary>The third part of a DSN (RFC 3464 §2, RFC 6522 §3): the original as message/rfc822, or its header
/// section as text/rfc822-headers. Whatever the queue holds, this returns something or nothing; it never throws
/// for the content.</summary>
internal static class ReturnedOriginal
{
    // RFC 5322 §2.1.1, without the CRLF.
    private const int MaxLineLength = 998;

    // Headers are returned whatever the size limit; this only bounds what a broken message makes us read.
    private const int HeaderSectionLimit = 1024 * 1024;

    private const int ChunkSize = 64 * 1024;

    private const string EightBit = "8bit";

    public static MimeEntity? Read(Stream original, bool full, long maxSize)
    {
        if (full && original.CanSeek && original.Length - original.Position > maxSize)
            full = false;
        long limit = full ? Math.Clamp(maxSize, 0, Array.MaxLength - 1) + 1 : HeaderSectionLimit;
        byte[] text = ReadAtMost(original, limit, untilBlankLine: !full);
        bool atEnd = text.Length < limit;

        if (full && atEnd && IsReturnable(text) && WholeMessage(text) is { } whole)
            return whole;
        return HeaderSection(text, atEnd);
    }

    private static MessagePart? WholeMessage(byte[] text)
    {
        MimeMessage message;
        try
        {
            message = MimeMessage.Load(new MemoryStream(text, writable: false));
        }
        catch (FormatException)
        {
            return null;
        }
        var part = new MessagePart { Message = message };
        MarkEightBit(part, text);
        return part;
    }

    private static TextRfc822Headers? HeaderSection(byte[] text, bool atEnd)
    {
        int length = HeaderSectionLength(text, atEnd);
        if (length == 0)
            return null;
        bool endsWithLineEnd = text[length - 1] == (byte)'\n';
        var section = new MemoryStream(length + 4);
        section.Write(text, 0, length);
        section.Write(endsWithLineEnd ? "\r\n"u8 : "\r\n\r\n"u8);
        section.Position = 0;

        HeaderList headers;
        try
        {
            headers = HeaderList.Load(section);
        }
        catch (FormatException)
        {
            return null;
        }
        var part = new TextRfc822Headers { Message = new MimeMessage(headers) };
        MarkEightBit(part, text.AsSpan(0, length));
        return part;
    }

    // RFC 6532 headers or an 8BITMIME body are passed on as they are, labelled so (RFC 2045 §6.2), rather than
    // re-encoded: the reader wants to see what was sent.
    private static void MarkEightBit(MimeEntity part, ReadOnlySpan<byte> text)
    {
        if (!Ascii.IsValid(text))
            part.Headers.Add(HeaderId.ContentTransferEncoding, EightBit);
    }

    public static bool IsEightBit(MimeEntity part) => part.Headers[HeaderId.ContentTransferEncoding] == EightBit;

    /// <summary>The length of the leading lines that form a header section: fields and their continuation
    /// lines, up to the empty line or the first line that is neither.</summary>
    private static int HeaderSectionLength(ReadOnlySpan<byte> text, bool atEnd)
    {
        int position = 0;
        bool inField = false;
        while (position < text.Length)
        {
            int lineFeed = text[position..].IndexOf((byte)'\n');
            if (lineFeed < 0 && !atEnd)
                break; // cut off by the read limit
            int next = lineFeed < 0 ? text.Length : position + lineFeed + 1;
            ReadOnlySpan<byte> line = text[position..(lineFeed < 0 ? text.Length : position + lineFeed)];
            if (line.EndsWith((byte)'\r'))
                line = line[..^1];
            if (line.IsEmpty || line.Length > MaxLineLength || line.Contains((byte)0))
                break;
            if (line[0] is (byte)' ' or (byte)'\t' ? !inField : !IsFieldStart(line))
                break;
            inField = true;
            position = next;
        }
        return position;
    }

    // RFC 5322 §3.6.8 field-name, then the obsolete whitespace before the colon (§4.5.8) that readers accept.
    private static bool IsFieldStart(ReadOnlySpan<byte> line)
    {
        int i = 0;
        while (i < line.Length && line[i] is >= 33 and <= 126 and not (byte)':')
            i++;
        if (i == 0)
            return false;
        while (i < line.Length && line[i] is (byte)' ' or (byte)'\t')
            i++;
        return i < line.Length && line[i] == (byte)':';
    }

    // A message goes back whole only if it can travel as text: no NUL, no line over 998 octets.
    private static bool IsReturnable(ReadOnlySpan<byte> text)
    {
        if (text.Contains((byte)0))
            return false;
        while (!text.IsEmpty)
        {
            int lineFeed = text.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = lineFeed < 0 ? text : text[..lineFeed];
            if (line.EndsWith((byte)'\r'))
                line = line[..^1];
            if (line.Length > MaxLineLength)
                return false;
            text = lineFeed < 0 ? default : text[(lineFeed + 1)..];
        }
        return true;
    }

    private static byte[] ReadAtMost(Stream stream, long limit, bool untilBlankLine)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            while (buffer.Length < limit)
            {
                int read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, limit - buffer.Length));
                if (read == 0)
                    break;
                int searchFrom = (int)Math.Max(0, buffer.Length - 2);
                buffer.Write(chunk, 0, read);
                if (untilBlankLine && HasBlankLine(buffer.GetBuffer().AsSpan(searchFrom, (int)buffer.Length - searchFrom)))
                    break;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return buffer.ToArray();
    }

    private static bool HasBlankLine(ReadOnlySpan<byte> text) =>
        text.IndexOf("\n\r\n"u8) >= 0 || text.IndexOf("\n\n"u8) >= 0;
}
