namespace FastSpool.Cli.Sendmail;

/// <summary>Standard input read as lines, as local programs write them: LF or CRLF at the end of each (bare LF is
/// normal here), each handed on without its line end. Without -i a line holding a single dot ends the message, as
/// in sendmail. The last line may lack its line end. A line longer than the limit, a bare CR inside a line or a NUL
/// is refused with the line's number: the queue keeps only canonical text, and a message is refused whole rather
/// than changed. Nothing holds more than one line.</summary>
internal sealed class MessageLines(Stream input, bool ignoreDots, int maxLineLength)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly byte[] _long = new byte[maxLineLength + 2];
    private int _start;
    private int _end;
    private bool _eof;
    private bool _done;

    /// <summary>Lines read so far (for error messages).</summary>
    public long LineNumber { get; private set; }

    /// <summary>Octets of message text read so far, with CRLF line ends.</summary>
    public long Size { get; private set; }

    /// <summary>The next line without its line end; false at the end of the message.</summary>
    /// <exception cref="InvalidDataException">The line cannot be stored as it is.</exception>
    public bool TryRead(out ReadOnlyMemory<byte> line)
    {
        line = default;
        if (_done)
            return false;
        int length = 0; // octets gathered in _long when a line crosses the buffer's end
        bool gathering = false;
        while (true)
        {
            int lf = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (lf >= 0 || (_eof && _end > _start))
            {
                int take = lf >= 0 ? lf : _end - _start;
                ReadOnlyMemory<byte> piece = _buffer.AsMemory(_start, take);
                _start += lf >= 0 ? take + 1 : take;
                if (gathering)
                {
                    Append(piece.Span, ref length);
                    line = _long.AsMemory(0, length);
                }
                else
                {
                    line = piece;
                }
                return Finish(ref line);
            }
            if (_eof)
            {
                if (gathering && length > 0)
                {
                    line = _long.AsMemory(0, length);
                    return Finish(ref line);
                }
                _done = true;
                return false;
            }
            // Keep the partial line: in the buffer if it fits, else gathered aside.
            if (_start > 0 && _end - _start < _buffer.Length / 2)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else if (_end == _buffer.Length)
            {
                gathering = true;
                Append(_buffer.AsSpan(_start, _end - _start), ref length);
                _start = _end = 0;
            }
            int read = input.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
                _eof = true;
            _end += read;
        }
    }

    private void Append(ReadOnlySpan<byte> piece, ref int length)
    {
        if (length + piece.Length > _long.Length)
            throw new InvalidDataException($"line {LineNumber + 1} is longer than {maxLineLength - 2} characters (Smtp:MaxLineLength {maxLineLength} with its line end)");
        piece.CopyTo(_long.AsSpan(length));
        length += piece.Length;
    }

    private bool Finish(ref ReadOnlyMemory<byte> line)
    {
        LineNumber++;
        ReadOnlySpan<byte> text = line.Span;
        if (!text.IsEmpty && text[^1] == (byte)'\r')
            line = line[..^1];
        text = line.Span;
        if (text.Length + 2 > maxLineLength)
            throw new InvalidDataException($"line {LineNumber} is longer than {maxLineLength - 2} characters (Smtp:MaxLineLength {maxLineLength} with its line end)");
        int bad = text.IndexOfAny((byte)'\r', (byte)0);
        if (bad >= 0)
            throw new InvalidDataException($"line {LineNumber} holds a {(text[bad] == 0 ? "NUL" : "carriage return not followed by a line feed")}");
        if (!ignoreDots && text.Length == 1 && text[0] == (byte)'.')
        {
            _done = true;
            return false;
        }
        Size += text.Length + 2;
        return true;
    }
}
