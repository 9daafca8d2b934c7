using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using static FastSpool.Delivery.Mbox.MboxSyntax;

namespace FastSpool.Delivery.Mbox;

/// <summary>Turns a message in wire form (CRLF line ends, as queued) into one mbox entry body, streaming, with
/// the input split anywhere. RFC 4155 "mboxo" as Postfix local(8) and procmail write it:
/// <list type="bullet">
/// <item>each CRLF becomes LF; a bare LF also ends a line; a lone CR is kept;</item>
/// <item>a line that starts with <c>From </c> gets a <c>&gt;</c> in front (in the header section too);</item>
/// <item>header fields that would let a sender set MUA state (<see cref="MboxSyntax.IsStrippedFieldName"/>) are
/// removed with their continuation lines;</item>
/// <item>a missing final line end is added, then the blank line that separates entries.</item>
/// </list>
/// The separator lines come first, from <see cref="WriteSeparator"/>. A mutable struct: keep it in a field or a
/// local and do not copy it while a message is being encoded. <c>default</c> is ready for a new message, and
/// <see cref="Finish"/> makes it so again.</summary>
public struct MboxEncoder
{
    // Lines longer than this are written as two pieces rather than asking the writer for one large span.
    private const int CombinedWriteLimit = 4096;

    private LineStartBuffer _lineStart;
    private int _lineStartLength;
    private LineMode _mode;
    private bool _inBody;
    private bool _skippingField;
    private bool _pendingCr;
    private bool _lineHasContent;

    private enum LineMode : byte
    {
        /// <summary>Collecting the first bytes of a line until they decide the line's fate.</summary>
        Start,

        /// <summary>Copying the rest of the line.</summary>
        Copy,

        /// <summary>Dropping the rest of the line (a removed header field).</summary>
        Skip,
    }

    /// <summary>The exact number of bytes <see cref="WriteSeparator"/> writes.</summary>
    public static int GetSeparatorLength(ReadOnlySpan<byte> sender, ReadOnlySpan<byte> recipient) =>
        From.Length + GetSenderTokenLength(sender) + 2 + AsctimeLength + 1
        + ReturnPathStart.Length + sender.Length + ReturnPathEnd.Length
        + DeliveredTo.Length + recipient.Length + 1;

    /// <summary>Writes <c>From SENDER  DATE</c>, <c>Return-Path: &lt;SENDER&gt;</c> and
    /// <c>Delivered-To: RECIPIENT</c>, each ending in LF. <paramref name="sender"/> and
    /// <paramref name="recipient"/> are envelope addresses without angle brackets, empty for the null sender
    /// (written as MAILER-DAEMON in the From_ line). In the From_ line the sender is one token of printable
    /// ASCII (<see cref="WriteSenderToken"/>); <c>Return-Path:</c> keeps it whole. The date is asctime(3) of
    /// <paramref name="time"/>'s own clock time: pass local time (<c>TimeProvider.GetLocalNow()</c>), as Postfix
    /// writes <c>asctime(localtime())</c>.
    /// </summary>
    /// <returns>The number of bytes written, <see cref="GetSeparatorLength"/>.</returns>
    public static int WriteSeparator(
        Span<byte> destination, ReadOnlySpan<byte> sender, ReadOnlySpan<byte> recipient, DateTimeOffset time)
    {
        // The envelope was checked by the SMTP parser; a line break here would forge mbox lines, so it is a bug.
        if (sender.IndexOfAny(Cr, Lf) >= 0)
            ThrowLineBreak(nameof(sender));
        if (recipient.IndexOfAny(Cr, Lf) >= 0)
            ThrowLineBreak(nameof(recipient));
        int length = GetSeparatorLength(sender, recipient);
        if (destination.Length < length)
            ThrowTooSmall(nameof(destination), length);

        int position = Put(destination, 0, From);
        position += WriteSenderToken(destination[position..], sender);
        position = Put(destination, position, "  "u8);
        WriteAsctime(destination.Slice(position, AsctimeLength), time.DateTime);
        position += AsctimeLength;
        destination[position++] = Lf;
        position = Put(destination, position, ReturnPathStart);
        position = Put(destination, position, sender);
        position = Put(destination, position, ReturnPathEnd);
        position = Put(destination, position, DeliveredTo);
        position = Put(destination, position, recipient);
        destination[position++] = Lf;
        return position;
    }

    /// <summary>Writes the sender as the From_ line's one token: readers split that line at white space (a quoted
    /// local part with spaces would forge the date) and decode it as ASCII (Python's <c>mailbox</c> fails on
    /// the whole file otherwise). Printable ASCII is copied; white space, control characters and each UTF-8
    /// character become <c>_</c>; the null sender is MAILER-DAEMON.</summary>
    /// <returns>The number of bytes written, <see cref="GetSenderTokenLength"/>.</returns>
    private static int WriteSenderToken(Span<byte> destination, ReadOnlySpan<byte> sender)
    {
        if (sender.IsEmpty)
            return Put(destination, 0, MailerDaemon);
        if (!sender.ContainsAnyExceptInRange(FirstPrintable, LastPrintable))
            return Put(destination, 0, sender); // the usual case
        int length = 0;
        for (int i = 0; i < sender.Length; i++)
        {
            byte value = sender[i];
            if (IsPrintableAscii(value))
                destination[length++] = value;
            else if (!ContinuesCharacter(sender, i))
                destination[length++] = Underscore;
        }
        return length;
    }

    private static int GetSenderTokenLength(ReadOnlySpan<byte> sender)
    {
        if (sender.IsEmpty)
            return MailerDaemon.Length;
        int length = sender.Length;
        for (int i = sender.IndexOfAnyExceptInRange(FirstPrintable, LastPrintable); i >= 0 && i < sender.Length; i++)
        {
            if (ContinuesCharacter(sender, i))
                length--;
        }
        return length;
    }

    private static bool IsPrintableAscii(byte value) => value is >= FirstPrintable and <= LastPrintable;

    /// <summary>A UTF-8 continuation byte after another non-ASCII byte: part of the character already replaced.</summary>
    private static bool ContinuesCharacter(ReadOnlySpan<byte> text, int index) =>
        text[index] is >= 0x80 and <= 0xBF && index > 0 && text[index - 1] >= 0x80;

    /// <summary>Writes <c>Www Mmm dd hh:mm:ss yyyy</c> (the day padded with a space) into exactly 24 bytes.</summary>
    internal static void WriteAsctime(Span<byte> destination, DateTime time)
    {
        DayNames.Slice((int)time.DayOfWeek * 3, 3).CopyTo(destination);
        destination[3] = Space;
        MonthNames.Slice((time.Month - 1) * 3, 3).CopyTo(destination[4..]);
        destination[7] = Space;
        destination[8] = time.Day < 10 ? Space : (byte)('0' + (time.Day / 10));
        destination[9] = (byte)('0' + (time.Day % 10));
        destination[10] = Space;
        WriteTwoDigits(destination[11..], time.Hour);
        destination[13] = Colon;
        WriteTwoDigits(destination[14..], time.Minute);
        destination[16] = Colon;
        WriteTwoDigits(destination[17..], time.Second);
        destination[19] = Space;
        WriteTwoDigits(destination[20..], time.Year / 100);
        WriteTwoDigits(destination[22..], time.Year % 100);
    }

    /// <summary>Encodes the next piece of the message; the pieces may split lines, CRLF pairs and header names
    /// anywhere.</summary>
    public void Encode(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        while (!input.IsEmpty)
        {
            switch (_mode)
            {
                case LineMode.Start:
                    input = input[ConsumeLineStart(input, output)..];
                    break;
                case LineMode.Copy:
                    input = CopyLine(input, output);
                    break;
                default:
                    int lineFeed = input.IndexOf(Lf);
                    if (lineFeed < 0)
                        return;
                    EndLine();
                    input = input[(lineFeed + 1)..];
                    break;
            }
        }
    }

    /// <summary>Ends the message: completes an unterminated last line, writes the blank line that separates mbox
    /// entries, and resets the encoder for the next message.</summary>
    public void Finish(IBufferWriter<byte> output)
    {
        if (_mode == LineMode.Start && _lineStartLength > 0)
            FlushLineStart(output);
        if (_mode == LineMode.Copy && _pendingCr)
            WriteByte(output, Cr);
        Span<byte> tail = output.GetSpan(2);
        int length = 0;
        if (_lineHasContent)
            tail[length++] = Lf; // the message did not end with a line end
        tail[length++] = Lf;
        output.Advance(length);
        this = default;
    }

    /// <summary>Handles the first bytes of a line one at a time until the line is quoted, copied or skipped.
    /// </summary>
    /// <returns>How many bytes of <paramref name="input"/> were used.</returns>
    private int ConsumeLineStart(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        int used = 0;
        while (used < input.Length && _mode == LineMode.Start)
        {
            if (_inBody ? StepBodyLineStart(input[used], output) : StepHeaderLineStart(input[used], output))
                used++;
        }
        return used;
    }

    /// <returns>True when <paramref name="value"/> was used; false when the line's mode was decided and the
    /// byte belongs to the rest of the line.</returns>
    private bool StepBodyLineStart(byte value, IBufferWriter<byte> output)
    {
        if (value != From[_lineStartLength])
        {
            FlushLineStart(output);
            return false;
        }
        _lineStart[_lineStartLength++] = value;
        if (_lineStartLength == From.Length)
        {
            WriteByte(output, Quote);
            FlushLineStart(output);
        }
        return true;
    }

    /// <inheritdoc cref="StepBodyLineStart"/>
    private bool StepHeaderLineStart(byte value, IBufferWriter<byte> output)
    {
        if (_lineStartLength == 0)
        {
            if (value is Space or Tab)
            {
                // A folded continuation belongs to the field above: dropped with it, or copied.
                _mode = _skippingField ? LineMode.Skip : LineMode.Copy;
                return false;
            }
            _skippingField = false;
        }

        ReadOnlySpan<byte> pending = ((ReadOnlySpan<byte>)_lineStart)[.._lineStartLength];
        if (value == Colon)
        {
            if (IsStrippedFieldName(pending.TrimEnd(Whitespace)))
            {
                _skippingField = true;
                _lineStartLength = 0;
                _mode = LineMode.Skip;
                return true;
            }
            FlushLineStart(output);
            return false;
        }

        if (value is Space or Tab)
        {
            if (pending.SequenceEqual(FromWithoutSpace))
            {
                WriteByte(output, Quote);
                FlushLineStart(output);
                return false;
            }
            // RFC 5322 obsolete syntax allows white space between a field name and its colon.
            if (_lineStartLength < LineStartBuffer.Capacity && IsStrippedFieldName(pending.TrimEnd(Whitespace)))
            {
                _lineStart[_lineStartLength++] = value;
                return true;
            }
            FlushLineStart(output);
            return false;
        }

        bool afterWhitespace = _lineStartLength > 0 && pending[^1] is Space or Tab;
        if (afterWhitespace || value is Cr or Lf || _lineStartLength == LineStartBuffer.Capacity)
        {
            FlushLineStart(output);
            return false;
        }

        _lineStart[_lineStartLength++] = value;
        pending = ((ReadOnlySpan<byte>)_lineStart)[.._lineStartLength];
        if (!StartsStrippedFieldName(pending) && !FromWithoutSpace.StartsWith(pending))
            FlushLineStart(output);
        return true;
    }

    /// <summary>Copies up to and including the next line end, or all of <paramref name="input"/>.</summary>
    private ReadOnlySpan<byte> CopyLine(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        int lineFeed = input.IndexOf(Lf);
        if (_pendingCr)
        {
            // The CR that ended the previous piece was a lone CR unless this piece starts with its LF.
            _pendingCr = false;
            if (lineFeed != 0)
                WriteByte(output, Cr);
        }

        if (lineFeed < 0)
        {
            if (input[^1] == Cr)
            {
                _pendingCr = true;
                input = input[..^1];
            }
            Write(output, input);
            return default;
        }

        ReadOnlySpan<byte> text = input[..lineFeed];
        if (!text.IsEmpty && text[^1] == Cr)
            text = text[..^1];
        if (text.Length < CombinedWriteLimit)
        {
            Span<byte> destination = output.GetSpan(text.Length + 1);
            text.CopyTo(destination);
            destination[text.Length] = Lf;
            output.Advance(text.Length + 1);
            _lineHasContent |= !text.IsEmpty;
        }
        else
        {
            Write(output, text);
            WriteByte(output, Lf);
        }
        EndLine();
        return input[(lineFeed + 1)..];
    }

    /// <summary>Bookkeeping after a line end (its LF already written when the line was copied).</summary>
    private void EndLine()
    {
        if (_mode == LineMode.Copy && !_lineHasContent && !_inBody)
        {
            // The empty line that ends the header section.
            _inBody = true;
            _skippingField = false;
        }
        _mode = LineMode.Start;
        _lineStartLength = 0;
        _lineHasContent = false;
        _pendingCr = false;
    }

    private void FlushLineStart(IBufferWriter<byte> output)
    {
        Write(output, ((ReadOnlySpan<byte>)_lineStart)[.._lineStartLength]);
        _lineStartLength = 0;
        _mode = LineMode.Copy;
    }

    private void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return;
        output.Write(bytes);
        _lineHasContent = true;
    }

    private void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
        _lineHasContent = true;
    }

    private static int Put(Span<byte> destination, int position, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination[position..]);
        return position + bytes.Length;
    }

    private static void WriteTwoDigits(Span<byte> destination, int value)
    {
        destination[0] = (byte)('0' + (value / 10));
        destination[1] = (byte)('0' + (value % 10));
    }

    [DoesNotReturn]
    private static void ThrowLineBreak(string name) =>
        throw new ArgumentException("An envelope address must not contain CR or LF.", name);

    [DoesNotReturn]
    private static void ThrowTooSmall(string name, int needed) =>
        throw new ArgumentException($"The separator needs {needed} bytes.", name);
}
