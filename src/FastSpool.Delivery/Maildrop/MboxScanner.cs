// RFC 4155 (the mbox format): an entry starts with a line "From " after a blank line (or at the start of the
// file); FastSpool's delivery quotes body lines that start with "From ", as mutt, mailx and procmail do.
using FastSpool.Protocols.Pop3;

namespace FastSpool.Delivery.Maildrop;

/// <summary>Finds the messages of mbox text: pure, over a span (a memory-mapped file).</summary>
public static class MboxScanner
{
    /// <summary>How many octets from the From_ line on make a message's fingerprint.</summary>
    public const int FingerprintLength = 256;

    private static ReadOnlySpan<byte> From => "From "u8;
    private static ReadOnlySpan<byte> Separator => "\n\nFrom "u8;

    /// <summary>Whether <paramref name="file"/> can start a message at <paramref name="at"/>: at 0, or after a
    /// blank line, with a <c>From </c> line.</summary>
    public static bool StartsEntry(ReadOnlySpan<byte> file, long at) =>
        at <= file.Length
        && (at == file.Length || file[(int)at..].StartsWith(From))
        && (at == 0 || (at >= 2 && file[(int)at - 2] == '\n' && file[(int)at - 1] == '\n'));

    /// <summary>Indexes the entries of <paramref name="file"/> from <paramref name="at"/> (0, or the start of an
    /// entry), calling <paramref name="add"/> with each (Uid 0: the caller numbers them), and
    /// <paramref name="scanned"/>, if given, with the offset read up to after each.</summary>
    /// <returns>Null, or why the text is not an mbox.</returns>
    public static string? Scan(ReadOnlySpan<byte> file, int at, List<MboxMessage> add, Action<long>? scanned = null)
    {
        if (at >= file.Length)
            return null;
        if (!file[at..].StartsWith(From))
            return $"not an mbox file: no \"From \" line at offset {at}";
        while (at < file.Length)
        {
            int start = at;
            int lineEnd = file[start..].IndexOf((byte)'\n');
            int contentStart = lineEnd < 0 ? file.Length : start + lineEnd + 1;
            int contentEnd;
            int search = Math.Max(contentStart - 1, start);
            int next = file[search..].IndexOf(Separator);
            if (next < 0)
            {
                at = file.Length;
                contentEnd = file.Length >= 2 && file[^1] == '\n' && file[^2] == '\n' ? file.Length - 1 : file.Length;
            }
            else
            {
                at = search + next + 2;
                contentEnd = at - 1;
            }
            contentEnd = Math.Max(contentEnd, contentStart);
            ReadOnlySpan<byte> content = file[contentStart..contentEnd];
            add.Add(new MboxMessage(start, contentStart, contentEnd, MultilineEncoder.MeasureUnstuffed(content), 0, Fingerprint(file, start, contentEnd)));
            scanned?.Invoke(at);
        }
        return null;
    }

    /// <summary>The fingerprint of the entry from <paramref name="start"/> to <paramref name="end"/>: its From_ line
    /// and the three lines after it (FastSpool's Return-Path, Delivered-To and Received), at most
    /// <see cref="FingerprintLength"/> octets and never past the entry or its header. MUAs that rewrite a mailbox
    /// keep these and add their Status lines at the end of the header, so a message keeps its fingerprint.</summary>
    public static uint Fingerprint(ReadOnlySpan<byte> file, long start, long end)
    {
        ReadOnlySpan<byte> entry = file.Slice((int)start, (int)Math.Min(FingerprintLength, Math.Min(end, file.Length) - start));
        int length = 0;
        for (int line = 0; line < 4 && length < entry.Length; line++)
        {
            int lf = entry[length..].IndexOf((byte)'\n');
            if (lf < 0)
            {
                length = entry.Length;
                break;
            }
            if (lf == 0)
                break; // the end of the header
            length += lf + 1;
        }
        return Crc32C.Compute(entry[..length]);
    }

    /// <summary>The length of the first part of <paramref name="content"/> that TOP sends (RFC 1939 §7): the header,
    /// the blank line after it, and then <paramref name="lines"/> lines of the body.</summary>
    public static int TopLength(ReadOnlySpan<byte> content, int lines)
    {
        int at;
        if (!content.IsEmpty && content[0] == '\n')
        {
            at = 1; // no header at all
        }
        else
        {
            int blank = content.IndexOf("\n\n"u8);
            if (blank < 0)
                return content.Length;
            at = blank + 2;
        }
        for (int i = 0; i < lines && at < content.Length; i++)
        {
            int lf = content[at..].IndexOf((byte)'\n');
            at = lf < 0 ? content.Length : at + lf + 1;
        }
        return at;
    }
}
