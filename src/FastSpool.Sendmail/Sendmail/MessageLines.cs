namespace FastSpool.Cli.Sendmail;

/// <summary>Standard input read as lines, as local programs write them: LF or CRLF at the end of each (bare LF is
/// normal here), each handed on without its line end. Without -i a line holding a single dot ends the message, as
/// in sendmail. The last line may lack its line end. A body line longer than the limit is broken as Postfix breaks
/// one that it sends by SMTP (smtp_line_length_limit): after as many octets as a line may hold, the rest goes on in a
/// line of its own that starts with a space (in MIME, the least damage); a header field is folded at a space instead
/// (<see cref="FoldAtWhitespace"/>); the queue keeps only lines within the limit. A bare CR inside a line or a NUL is refused with the line's number:
/// the message is refused whole rather than changed in a way its writer would not see. Nothing holds more than a
/// line.</summary>
internal sealed class MessageLines
{
    private readonly Stream _input;
    private readonly bool _ignoreDots;
    private readonly int _maxLineLength;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly byte[] _line;
    private int _start;
    private int _end;
    private bool _eof;
    private bool _done;
    private bool _continues; // the line last handed on was cut: what follows is the rest of the same input line
    private bool _midLine; // octets of the current input line were read already (for the last line without LF)
    private readonly byte[] _carry; // in the head: the part of a cut line after the space it was folded at
    private int _carryLength;

    public MessageLines(Stream input, bool ignoreDots, int maxLineLength)
    {
        _input = input;
        _ignoreDots = ignoreDots;
        _maxLineLength = maxLineLength;
        _line = new byte[maxLineLength - 2];
        _carry = new byte[maxLineLength - 2];
    }

    /// <summary>Set while the header section is read: a field longer than the limit is folded at its last space or
    /// tab within the limit (RFC 5322 §2.2.3), which changes nothing of its value (its addresses stay whole); one
    /// with no such place is cut as a body line is. In the body a line is cut where the limit falls and goes on after
    /// an added space.</summary>
    public bool FoldAtWhitespace { get; set; }

    /// <summary>Input lines begun so far (for error messages).</summary>
    public long LineNumber { get; private set; }

    /// <summary>Octets of message text handed on so far, with CRLF line ends.</summary>
    public long Size { get; private set; }

    /// <summary>Lines broken because they were longer than the limit.</summary>
    public long LinesBroken { get; private set; }

    /// <summary>The next line without its line end; false at the end of the message.</summary>
    /// <exception cref="InvalidDataException">The line cannot be stored as it is.</exception>
    public bool TryRead(out ReadOnlyMemory<byte> line)
    {
        line = default;
        if (_done)
            return false;
        int length = 0;
        bool continuation = _continues;
        if (_carryLength > 0)
        {
            // The rest of a folded header line, from the space it was folded at.
            _carry.AsSpan(0, _carryLength).CopyTo(_line);
            length = _carryLength;
            _carryLength = 0;
            _continues = false;
        }
        else if (_continues)
        {
            _line[length++] = (byte)' ';
            _continues = false;
        }
        else
        {
            LineNumber++;
        }
        while (true)
        {
            if (_start == _end || (_end - _start == 1 && _buffer[_start] == (byte)'\r' && !_eof))
            {
                // Nothing left but perhaps a CR whose LF may come with the next read: read on.
                if (!Fill())
                {
                    if (length == 0 && !continuation && !_midLine && _start == _end)
                    {
                        LineNumber--;
                        _done = true;
                        return false;
                    }
                    _midLine = false;
                    line = _line.AsMemory(0, length);
                    return Finish(ref line, continuation);
                }
                continue;
            }
            ReadOnlySpan<byte> available = _buffer.AsSpan(_start, _end - _start);
            int lf = available.IndexOf((byte)'\n');
            int take = lf >= 0 ? lf : available.Length;
            // A CR that ends the chunk without its LF is left for the next read, which tells whether it ends the line.
            if (lf < 0 && !_eof && available[take - 1] == (byte)'\r')
                take--;
            int content = lf >= 0 && take > 0 && available[take - 1] == (byte)'\r' ? take - 1 : take;
            int room = _line.Length - length;
            if (content > room)
            {
                available[..room].CopyTo(_line.AsSpan(length));
                length += room;
                _start += room;
                _continues = true;
                _midLine = true;
                LinesBroken += continuation ? 0 : 1;
                if (FoldAtWhitespace)
                    length = Fold(length);
                line = _line.AsMemory(0, length);
                return Finish(ref line, continuation);
            }
            available[..content].CopyTo(_line.AsSpan(length));
            length += content;
            if (lf >= 0)
            {
                _start += lf + 1;
                _midLine = false;
                line = _line.AsMemory(0, length);
                return Finish(ref line, continuation);
            }
            _start += take;
            _midLine = true;
        }
    }

    /// <summary>Folds the full line buffer at its last space or tab (not the first octet): the rest, from that
    /// space on, waits in the carry for the next line. Returns the length of the part handed on now; with no space
    /// or tab to fold at, the line is cut as a body line is.</summary>
    private int Fold(int length)
    {
        int at = _line.AsSpan(1, length - 1).LastIndexOfAny((byte)' ', (byte)'\t') + 1;
        if (at <= 0)
            return length;
        _line.AsSpan(at, length - at).CopyTo(_carry);
        _carryLength = length - at;
        return at;
    }

    /// <summary>Reads more input after what is left; false at its end.</summary>
    private bool Fill()
    {
        if (_eof)
            return false;
        int left = _end - _start;
        if (left > 0)
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, left);
        _start = 0;
        _end = left;
        int read = _input.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
        {
            _eof = true;
            return left > 0;
        }
        _end += read;
        return true;
    }

    private bool Finish(ref ReadOnlyMemory<byte> line, bool continuation)
    {
        ReadOnlySpan<byte> text = line.Span;
        int bad = text.IndexOfAny((byte)'\r', (byte)0);
        if (bad >= 0)
            throw new InvalidDataException($"line {LineNumber} holds a {(text[bad] == 0 ? "NUL" : "carriage return not followed by a line feed")}");
        if (!_ignoreDots && !continuation && !_continues && text.Length == 1 && text[0] == (byte)'.')
        {
            _done = true;
            return false;
        }
        Size += text.Length + 2;
        return true;
    }
}
