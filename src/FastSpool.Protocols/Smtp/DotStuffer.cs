// RFC 5321 §4.5.2 (transparency: a line that starts with "." gets one more), §4.1.1.4 (end of data: CRLF "." CRLF).
using System.Buffers;

namespace FastSpool.Protocols.Smtp;

/// <summary>Writes message text as DATA sends it, piece by piece, without holding the message: a dot doubled at the
/// start of every line, then <see cref="Finish"/> closes the last line if need be and writes the terminator. The text
/// is stored with CRLF line ends (bare CR and LF are refused at the door), so a line starts after each LF.</summary>
public struct DotStuffer
{
    private bool _midLine;

    /// <summary>Writes <paramref name="text"/>, the next piece of the message.</summary>
    public void Write(ReadOnlySpan<byte> text, IBufferWriter<byte> output)
    {
        if (text.IsEmpty)
            return;
        int start = 0;
        while (start < text.Length)
        {
            if (!_midLine && text[start] == (byte)'.')
                output.Write("."u8);
            int lf = text[start..].IndexOf((byte)'\n');
            int end = lf < 0 ? text.Length : start + lf + 1;
            output.Write(text[start..end]);
            _midLine = lf < 0;
            start = end;
        }
    }

    /// <summary>Ends the text: CRLF if it did not end with one (an empty text needs none), then <c>.CRLF</c>.</summary>
    public readonly void Finish(IBufferWriter<byte> output)
    {
        if (_midLine)
            output.Write("\r\n"u8);
        output.Write(".\r\n"u8);
    }
}
