namespace FastSpool.Bench.Delivery;

/// <summary>
/// Counts lines that start with <c>"From "</c> in text fed in arbitrary pieces: a line start, or a partly matched
/// <c>"From "</c>, carries over from one piece to the next. Writers quote body lines as <c>"&gt;From "</c>, so each
/// such line starts one message.
/// </summary>
internal sealed class FromLineScanner
{
    private static ReadOnlySpan<byte> Separator => "From "u8;

    // How much of "From " the current line has matched so far; -1 when the line can no longer match.
    private int _matched;

    public FromLineScanner(bool atLineStart) => _matched = atLineStart ? 0 : -1;

    public long Count { get; private set; }

    public void Scan(ReadOnlySpan<byte> text)
    {
        while (!text.IsEmpty)
        {
            if (_matched < 0)
            {
                int lf = text.IndexOf((byte)'\n');
                if (lf < 0)
                    return;
                text = text[(lf + 1)..];
                _matched = 0;
                continue;
            }
            byte b = text[0];
            text = text[1..];
            if (b == Separator[_matched])
            {
                if (++_matched == Separator.Length)
                {
                    Count++;
                    _matched = -1;
                }
            }
            else
            {
                _matched = b == (byte)'\n' ? 0 : -1;
            }
        }
    }
}
