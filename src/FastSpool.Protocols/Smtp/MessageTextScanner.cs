// RFC 5321 §2.3.8 (CRLF only), §4.1.4 (end of mail data), §4.5.2 (transparency), §4.5.3.1.6 (1000-octet text
// lines); RFC 3030 §2 (BDAT octets are not dot-stuffed); RFC 5322 §3.6.7 (Received fields, for the hop count).
// Refusing every bare CR, bare LF and NUL closes SMTP smuggling (CVE-2023-51764): only CRLF.CRLF ends DATA.
using System.Diagnostics;

namespace FastSpool.Protocols.Smtp;

/// <summary>Streams DATA or BDAT message text into an output buffer: removes dot-stuffing (DATA), finds the end
/// of data, refuses bare CR, bare LF and NUL, and notes over-long lines and Received header fields.
/// Per-message state; create with <see cref="ForData"/> or <see cref="ForBdat"/>.</summary>
public struct MessageTextScanner
{
    private const byte CR = (byte)'\r';
    private const byte LF = (byte)'\n';
    private const byte Nul = 0;
    private const sbyte NotMatching = -1;

    private enum State : byte
    {
        InLine,
        LineStart, // DATA only: a dot here is either stuffing or the end-of-data line
        Dot,       // line-start dot seen, not written
        DotCr,     // ".\r" at line start: LF ends the data, anything else is a bare CR
        AfterCr,   // CR written, its LF still to come
    }

    private readonly int _maxLineLength;
    private readonly bool _dotTransparency;
    private State _state;
    private bool _done;
    private TextScanStatus _final;
    private bool _lineTooLong;
    private bool _inHeader;

    // Octets of "Received:" matched at the start of the current header line, or NotMatching. Matching as the
    // octets arrive needs no buffer, however the input is split.
    private sbyte _receivedMatch;
    private int _lineLength;
    private int _receivedHeaders;

    private MessageTextScanner(int maxLineLength, bool dotTransparency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 3);
        ArgumentOutOfRangeException.ThrowIfEqual(maxLineLength, int.MaxValue);
        _maxLineLength = maxLineLength;
        _dotTransparency = dotTransparency;
        _state = dotTransparency ? State.LineStart : State.InLine;
        _inHeader = true;
        _receivedMatch = 0;
    }

    /// <summary>DATA: dot transparency, ends at <c>CRLF.CRLF</c>; the start of the data counts as a line start.</summary>
    public static MessageTextScanner ForData(int maxLineLength) => new(maxLineLength, dotTransparency: true);

    /// <summary>BDAT: octets taken as they are; the end comes from the BDAT LAST chunk, see <see cref="Finish"/>.</summary>
    public static MessageTextScanner ForBdat(int maxLineLength) => new(maxLineLength, dotTransparency: false);

    /// <summary>Sticky: some line exceeded the limit, counting its CRLF but not a stuffed dot.</summary>
    public readonly bool LineTooLong => _lineTooLong;

    /// <summary>Header fields named Received (at column 0, any case) before the first empty line.</summary>
    public readonly int ReceivedHeaders => _receivedHeaders;

    /// <summary>Copies message octets from <paramref name="input"/> to <paramref name="output"/> with CRLF line
    /// ends, stuffed dots removed and the final <c>.CRLF</c> left out (the CRLF before it is message text).
    /// On EndOfData, <paramref name="consumed"/> includes the final LF. After a terminal status the output is
    /// to be discarded and further calls return the same status.</summary>
    public TextScanStatus Scan(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int written)
    {
        if (_done)
        {
            consumed = 0;
            written = 0;
            return _final;
        }

        int i = 0;
        int o = 0;
        TextScanStatus status;
        while (true)
        {
            if (i == input.Length)
            {
                status = TextScanStatus.NeedMoreInput;
                goto Return;
            }

            switch (_state)
            {
                case State.InLine:
                {
                    ReadOnlySpan<byte> rest = input[i..];
                    byte b = rest[0];
                    if (_receivedMatch >= 0 && b is not (CR or LF or Nul))
                    {
                        if (o == output.Length)
                        {
                            status = TextScanStatus.OutputFull;
                            goto Return;
                        }

                        MatchReceived(b);
                        output[o++] = b;
                        i++;
                        CountLineOctets(1);
                        continue;
                    }

                    int run = rest.IndexOfAny(CR, LF, Nul);
                    if (run < 0)
                        run = rest.Length;
                    if (run > 0)
                    {
                        int room = output.Length - o;
                        if (room == 0)
                        {
                            status = TextScanStatus.OutputFull;
                            goto Return;
                        }

                        int take = Math.Min(run, room);
                        rest[..take].CopyTo(output[o..]);
                        i += take;
                        o += take;
                        CountLineOctets(take);
                        continue;
                    }

                    if (b == Nul)
                    {
                        status = TextScanStatus.Nul;
                        goto Terminal;
                    }

                    if (b == LF)
                    {
                        status = TextScanStatus.BareLf;
                        goto Terminal;
                    }

                    if (o == output.Length)
                    {
                        status = TextScanStatus.OutputFull;
                        goto Return;
                    }

                    output[o++] = CR;
                    i++;
                    CountLineOctets(1);
                    if (i < input.Length && input[i] == LF && o < output.Length)
                    {
                        output[o++] = LF; // the common CRLF, without another trip through the state switch
                        i++;
                        EndLine();
                    }
                    else
                    {
                        _state = State.AfterCr;
                    }

                    continue;
                }

                case State.LineStart:
                    if (input[i] == (byte)'.')
                    {
                        i++;
                        _state = State.Dot;
                    }
                    else
                    {
                        _state = State.InLine;
                    }

                    continue;

                case State.Dot:
                    if (input[i] == CR)
                    {
                        i++;
                        _state = State.DotCr;
                        continue;
                    }

                    if (input[i] == LF)
                    {
                        status = TextScanStatus.BareLf;
                        goto Terminal;
                    }

                    _state = State.InLine; // a stuffed dot: dropped, the rest of the line is text (NUL included)
                    continue;

                case State.DotCr:
                    if (input[i] == LF)
                    {
                        i++;
                        status = TextScanStatus.EndOfData;
                    }
                    else
                    {
                        status = TextScanStatus.BareCr;
                    }

                    goto Terminal;

                default:
                    Debug.Assert(_state == State.AfterCr);
                    if (input[i] != LF)
                    {
                        status = TextScanStatus.BareCr;
                        goto Terminal;
                    }

                    if (o == output.Length)
                    {
                        status = TextScanStatus.OutputFull;
                        goto Return;
                    }

                    output[o++] = LF;
                    i++;
                    EndLine();
                    continue;
            }
        }

    Terminal:
        _done = true;
        _final = status;
    Return:
        consumed = i;
        written = o;
        return status;
    }

    /// <summary>Ends a BDAT message after its LAST chunk: BareCr if the text ended in a CR, else EndOfData.</summary>
    public TextScanStatus Finish()
    {
        if (!_done)
        {
            _done = true;
            _final = _state is State.AfterCr or State.DotCr ? TextScanStatus.BareCr : TextScanStatus.EndOfData;
        }

        return _final;
    }

    private void CountLineOctets(int count)
    {
        // Stops counting once over the limit, so a huge line cannot overflow the counter.
        if (count > _maxLineLength - _lineLength)
        {
            _lineTooLong = true;
            _lineLength = _maxLineLength + 1;
        }
        else
        {
            _lineLength += count;
        }
    }

    private void MatchReceived(byte b)
    {
        ReadOnlySpan<byte> name = SmtpLiterals.ReceivedFieldLower;
        int matched = _receivedMatch;
        bool same = matched < name.Length - 1 ? (b | 0x20) == name[matched] : b == name[matched];
        if (!same)
        {
            _receivedMatch = NotMatching;
        }
        else if (++matched == name.Length)
        {
            _receivedHeaders++;
            _receivedMatch = NotMatching;
        }
        else
        {
            _receivedMatch = (sbyte)matched;
        }
    }

    private void EndLine()
    {
        CountLineOctets(1);
        if (_inHeader && _lineLength == 2)
            _inHeader = false; // the empty line that ends the header section
        _lineLength = 0;
        _receivedMatch = _inHeader ? (sbyte)0 : NotMatching;
        _state = _dotTransparency ? State.LineStart : State.InLine;
    }
}
