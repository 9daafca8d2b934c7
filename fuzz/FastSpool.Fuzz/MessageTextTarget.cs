using FastSpool.Protocols.Smtp;

namespace FastSpool.Fuzz;

/// <summary>Message text through the DATA or BDAT scanner (the first octet picks the mode, the line limit and how
/// the rest is cut up). The oracle is the scanner itself with other cuts: all the input at once into a large output
/// must give the same outcome, the same text, the same consumed length and the same counters as the input fed a few
/// octets at a time into a small output window; text that was accepted never holds a NUL or a bare CR or LF.</summary>
internal static class MessageTextTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return;
        byte control = input[0];
        ReadOnlySpan<byte> text = input[1..];
        bool bdat = (control & 1) != 0;
        int maxLine = (control & 2) != 0 ? 1000 : 20;
        int step = 1 + ((control >> 2) & 7);
        int window = 1 + (control >> 5);

        Outcome whole = Scan(text, bdat, maxLine, text.Length + 1, 64 * 1024);
        Outcome cut = Scan(text, bdat, maxLine, step, window);
        FuzzAssert.True(whole.Status == cut.Status, $"outcome {whole.Status} at once, {cut.Status} in pieces");
        FuzzAssert.True(whole.Consumed == cut.Consumed, $"consumed {whole.Consumed} at once, {cut.Consumed} in pieces");
        FuzzAssert.True(whole.Text.AsSpan().SequenceEqual(cut.Text), "other text at once than in pieces");
        FuzzAssert.True(whole.LineTooLong == cut.LineTooLong && whole.ReceivedHeaders == cut.ReceivedHeaders, "other counters at once than in pieces");
        FuzzAssert.True(whole.Text.Length <= whole.Consumed, "more text out than input in");
        if (whole.Status is TextScanStatus.EndOfData or TextScanStatus.NeedMoreInput)
            CheckLineEnds(whole.Text, complete: whole.Status == TextScanStatus.EndOfData);
    }

    /// <summary>Accepted text has CRLF line ends only; text still open may end in the CR of a line end to come.</summary>
    private static void CheckLineEnds(byte[] text, bool complete)
    {
        for (int i = 0; i < text.Length; i++)
        {
            FuzzAssert.True(text[i] != 0, "a NUL in accepted text");
            if (text[i] == '\r')
                FuzzAssert.True(i + 1 < text.Length ? text[i + 1] == '\n' : !complete, "a bare CR in accepted text");
            if (text[i] == '\n')
                FuzzAssert.True(i > 0 && text[i - 1] == '\r', "a bare LF in accepted text");
        }
    }

    private readonly record struct Outcome(TextScanStatus Status, int Consumed, byte[] Text, bool LineTooLong, int ReceivedHeaders);

    private static Outcome Scan(ReadOnlySpan<byte> input, bool bdat, int maxLine, int step, int window)
    {
        MessageTextScanner scanner = bdat ? MessageTextScanner.ForBdat(maxLine) : MessageTextScanner.ForData(maxLine);
        var text = new MemoryStream();
        byte[] output = new byte[window];
        int position = 0;
        int idle = 0;
        TextScanStatus status = TextScanStatus.NeedMoreInput;
        while (position < input.Length)
        {
            ReadOnlySpan<byte> piece = input.Slice(position, Math.Min(step, input.Length - position));
            status = scanner.Scan(piece, output, out int consumed, out int written);
            FuzzAssert.True(consumed >= 0 && consumed <= piece.Length && written >= 0 && written <= output.Length, "consumed or written out of range");
            text.Write(output, 0, written);
            position += consumed;
            idle = consumed == 0 && written == 0 ? idle + 1 : 0;
            FuzzAssert.True(idle < 3, $"no progress with {status} and a fresh {window}-octet output");
            if (status == TextScanStatus.NeedMoreInput)
            {
                FuzzAssert.True(consumed == piece.Length, "NeedMoreInput before the input was used up");
                continue;
            }
            if (status != TextScanStatus.OutputFull)
                break;
        }
        if (bdat && status is TextScanStatus.NeedMoreInput or TextScanStatus.OutputFull && position == input.Length)
            status = scanner.Finish();
        if (status == TextScanStatus.OutputFull)
            status = TextScanStatus.NeedMoreInput; // all input taken and the last output was exactly full
        return new Outcome(status, position, text.ToArray(), scanner.LineTooLong, scanner.ReceivedHeaders);
    }
}
