// RFC 1939 §3: multi-line responses end in CRLF, and a line that starts with the termination octet (".") gets one
// more in front (byte-stuffing); the response ends with ".CRLF".
namespace FastSpool.Protocols.Pop3;

/// <summary>Turns stored message text with LF line ends (mbox) into the body of a POP3 multi-line response, streaming,
/// with the input and the output split anywhere: every LF not already after a CR becomes CRLF, and a line that starts
/// with <c>.</c> is dot-stuffed. <see cref="Finish"/> ends an unterminated last line. A mutable struct: keep it in a
/// field or a local and do not copy it while encoding. <c>default</c> is ready for a new message.</summary>
public struct MultilineEncoder
{
    private const byte CR = (byte)'\r';
    private const byte LF = (byte)'\n';
    private const byte Dot = (byte)'.';

    private bool _midLine;
    private bool _afterCr;

    /// <summary>The octets a message of <paramref name="text"/> has on the wire with CRLF line ends and a line end
    /// at the end, without the dot-stuffing (RFC 1939 §§5, 7: the size STAT and LIST give, which is what the client
    /// holds after undoing the stuffing).</summary>
    public static long MeasureUnstuffed(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
            return 0;
        long length = text.Length + text.Count(LF) - text.Count("\r\n"u8);
        return text[^1] == LF ? length : length + 2;
    }

    /// <summary>Encodes as much of <paramref name="input"/> as fits in <paramref name="output"/>.</summary>
    /// <returns>True when the whole input was consumed.</returns>
    public bool Encode(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int written)
    {
        consumed = 0;
        written = 0;
        while (consumed < input.Length)
        {
            if (!_midLine && input[consumed] == Dot)
            {
                if (output.Length - written < 2)
                    return false;
                output[written++] = Dot;
                output[written++] = Dot;
                consumed++;
                _midLine = true;
                _afterCr = false;
                continue;
            }
            ReadOnlySpan<byte> rest = input[consumed..];
            int lf = rest.IndexOf(LF);
            ReadOnlySpan<byte> run = lf < 0 ? rest : rest[..lf];
            if (!run.IsEmpty)
            {
                int n = Math.Min(run.Length, output.Length - written);
                if (n == 0)
                    return false;
                run[..n].CopyTo(output[written..]);
                written += n;
                consumed += n;
                _midLine = true;
                _afterCr = run[n - 1] == CR;
                if (n < run.Length)
                    return false;
                continue;
            }
            int need = _afterCr ? 1 : 2;
            if (output.Length - written < need)
                return false;
            if (!_afterCr)
                output[written++] = CR;
            output[written++] = LF;
            consumed++;
            _midLine = false;
            _afterCr = false;
        }
        return true;
    }

    /// <summary>Ends the text: a CRLF when the last line had no line end. Needs 2 octets of
    /// <paramref name="output"/>; returns the number written and makes the encoder ready for the next message.</summary>
    public int Finish(Span<byte> output)
    {
        int written = 0;
        if (_midLine)
        {
            output[0] = CR;
            output[1] = LF;
            written = 2;
        }
        this = default;
        return written;
    }
}
