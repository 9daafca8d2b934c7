// RFC 5321 §4.5.2 (transparency), §4.1.1.4 (end of mail data indication).
namespace FastSpool.Bench.Messages;

internal static class DotStuffing
{
    private static ReadOnlySpan<byte> EndOfData => ".\r\n"u8;

    /// <summary>
    /// <paramref name="text"/> as DATA sends it: a '.' doubled at the start of every line (after every LF, to be
    /// safe with bare LFs), a CRLF added when the text does not end in one, then the ".CRLF" terminator.
    /// The text is taken to start at a line start (after the header's blank line).
    /// </summary>
    public static byte[] Stuff(ReadOnlySpan<byte> text)
    {
        int dots = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == (byte)'.' && (i == 0 || text[i - 1] == (byte)'\n'))
                dots++;
        }
        bool addCrlf = text.Length > 0 && !text.EndsWith("\r\n"u8);
        var wire = new byte[text.Length + dots + (addCrlf ? 2 : 0) + EndOfData.Length];
        int w = 0;
        int lineStart = 0;
        while (lineStart < text.Length)
        {
            int lf = text[lineStart..].IndexOf((byte)'\n');
            int lineEnd = lf < 0 ? text.Length : lineStart + lf + 1;
            if (text[lineStart] == (byte)'.')
                wire[w++] = (byte)'.';
            text[lineStart..lineEnd].CopyTo(wire.AsSpan(w));
            w += lineEnd - lineStart;
            lineStart = lineEnd;
        }
        if (addCrlf)
        {
            wire[w++] = (byte)'\r';
            wire[w++] = (byte)'\n';
        }
        EndOfData.CopyTo(wire.AsSpan(w));
        return wire;
    }
}
