// RFC 5321 §2.3.8 (CRLF line ends), §4.1.1 (command lines), §4.5.3.1.4 (512-octet command line limit).
using System.Buffers;

namespace FastSpool.Protocols.Smtp;

/// <summary>Splits SMTP command lines out of a connection's input buffer. Per-connection state, reused.</summary>
public struct CommandLineReader
{
    private const byte CR = (byte)'\r';
    private const byte LF = (byte)'\n';

    // Set while skipping the rest of an over-long line whose LF has not arrived yet, so the caller's buffer
    // never has to hold more than one maximum-length line.
    private bool _discarding;

    /// <summary>True while the rest of an over-long line is being skipped.</summary>
    public readonly bool IsDiscarding => _discarding;

    public void Reset() => _discarding = false;

    /// <summary>Reads one command line. <paramref name="maxLength"/> counts the line's terminator octets.
    /// <see cref="LineReadStatus.Line"/> and <see cref="LineReadStatus.BareLf"/> set <paramref name="line"/>
    /// to the content without the terminator and advance past the LF. <see cref="LineReadStatus.TooLong"/>
    /// is returned once per over-long line, after its LF. On <see cref="LineReadStatus.NeedMore"/> the reader
    /// is unchanged, except while discarding, when all of it is consumed.</summary>
    public LineReadStatus TryReadLine(ref SequenceReader<byte> reader, int maxLength, out ReadOnlySequence<byte> line)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        line = default;
        if (_discarding)
            return Discard(ref reader);

        ReadOnlySpan<byte> span = reader.UnreadSpan;
        int lf = span[..Math.Min(span.Length, maxLength)].IndexOf(LF);
        if (lf >= 0)
        {
            bool crlf = lf > 0 && span[lf - 1] == CR;
            line = reader.UnreadSequence.Slice(0, crlf ? lf - 1 : lf);
            reader.Advance(lf + 1);
            return crlf ? LineReadStatus.Line : LineReadStatus.BareLf;
        }

        if (span.Length >= maxLength)
            return StartDiscarding(ref reader);
        if (reader.Remaining == span.Length)
            return LineReadStatus.NeedMore;
        return TryReadMultiSegmentLine(ref reader, maxLength, out line);
    }

    private LineReadStatus TryReadMultiSegmentLine(ref SequenceReader<byte> reader, int maxLength,
        out ReadOnlySequence<byte> line)
    {
        line = default;
        ReadOnlySequence<byte> unread = reader.UnreadSequence;
        ReadOnlySequence<byte> window = unread.Slice(0, Math.Min(unread.Length, maxLength));
        SequencePosition? lf = window.PositionOf(LF);
        if (lf is null)
            return unread.Length >= maxLength ? StartDiscarding(ref reader) : LineReadStatus.NeedMore;

        ReadOnlySequence<byte> content = window.Slice(0, lf.Value);
        long length = content.Length;
        bool crlf = false;
        if (length > 0)
        {
            // CopyTo copes with a slice that starts at the end of a segment; FirstSpan would then be empty.
            Span<byte> last = stackalloc byte[1];
            content.Slice(length - 1).CopyTo(last);
            crlf = last[0] == CR;
        }

        line = crlf ? content.Slice(0, length - 1) : content;
        reader.Advance(length + 1);
        return crlf ? LineReadStatus.Line : LineReadStatus.BareLf;
    }

    private LineReadStatus StartDiscarding(ref SequenceReader<byte> reader)
    {
        _discarding = true;
        return Discard(ref reader);
    }

    private LineReadStatus Discard(ref SequenceReader<byte> reader)
    {
        if (reader.TryAdvanceTo(LF))
        {
            _discarding = false;
            return LineReadStatus.TooLong;
        }

        reader.AdvanceToEnd();
        return LineReadStatus.NeedMore;
    }
}
