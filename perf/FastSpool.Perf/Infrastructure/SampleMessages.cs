using System.Buffers;
using System.Text;

namespace FastSpool.Perf.Infrastructure;

/// <summary>Deterministic test messages of an exact size: 78-character text lines under a realistic header.</summary>
internal static class SampleMessages
{
    public const int OneMiB = 1024 * 1024;
    public const int TextLineLength = 78;

    private const string Header =
        "Received: from client.example.org ([192.0.2.10])\r\n" +
        "\tby mail.example.org (FastSpool) with ESMTP id 6B05C71800000\r\n" +
        "\tfor <alice@example.org>; Tue, 24 Nov 2026 17:19:20 +0000\r\n" +
        "From: Bob Example <bob@example.org>\r\n" +
        "To: Alice Example <alice@example.org>\r\n" +
        "Subject: Quarterly figures and the minutes of the last meeting\r\n" +
        "Date: Tue, 24 Nov 2026 17:19:20 +0000\r\n" +
        "Message-ID: <20261124171920.4711@example.org>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=us-ascii\r\n";

    // Fields a sender must not set in an mbox (see MboxSyntax.IsStrippedFieldName), one of them folded.
    private const string StrippedHeader =
        "Status: RO\r\n" +
        "X-Status: A\r\n" +
        "X-UID: 4711\r\n" +
        "X-Keywords: $Forwarded\r\n" +
        "\tNonJunk\r\n" +
        "Content-Length: 1048576\r\n";

    private static readonly string[] Words =
    [
        "the", "queue", "manager", "delivers", "every", "message", "to", "a", "local", "mailbox", "after", "its",
        "envelope", "was", "committed", "and", "the", "client", "got", "reply", "with", "id", "figures", "for",
        "third", "quarter", "are", "attached", "below", "as", "plain", "text", "lines", "of", "seventy", "eight",
    ];

    /// <summary>A DATA section as a client sends it: CRLF lines, every <paramref name="dotLineEvery"/>-th body line
    /// starting with a dot (sent stuffed, as <c>..</c>; 0 for none), ending with <c>.CRLF</c>.</summary>
    public static byte[] DataSection(int totalBytes, int dotLineEvery) =>
        Build(totalBytes, Header, "\r\n"u8, ".\r\n"u8, dotLineEvery > 0 ? dotLineEvery : 0, "..");

    /// <summary>A message in queue (wire) form without dot-stuffing: CRLF lines, the header holding fields that
    /// mbox delivery strips, and every <paramref name="fromLineEvery"/>-th body line starting with <c>From </c>.</summary>
    public static byte[] QueuedMessage(int totalBytes, int fromLineEvery) =>
        Build(totalBytes, Header + StrippedHeader, "\r\n"u8, default, fromLineEvery, "From ");

    /// <summary>One mbox entry as delivery appends it: separator lines, LF line ends, a blank line at the end.</summary>
    public static byte[] MboxEntry(int totalBytes)
    {
        string header = "From bob@example.org  Tue Nov 24 17:19:20 2026\r\nReturn-Path: <bob@example.org>\r\n" +
            "Delivered-To: alice@example.org\r\n" + Header;
        return Build(totalBytes, header.Replace("\r\n", "\n", StringComparison.Ordinal), "\n"u8, "\n"u8, 0, "");
    }

    private static byte[] Build(int totalBytes, string header, ReadOnlySpan<byte> lineEnd, ReadOnlySpan<byte> tail,
        int markEvery, string mark)
    {
        var random = new Random(20261124);
        var output = new ArrayBufferWriter<byte>(totalBytes);
        output.Write(Encoding.ASCII.GetBytes(header));
        output.Write(lineEnd);

        int fullLine = TextLineLength + lineEnd.Length;
        int remaining = totalBytes - output.WrittenCount - tail.Length;
        if (remaining < lineEnd.Length)
            throw new ArgumentOutOfRangeException(nameof(totalBytes), "too small for the header");
        for (int line = 1; remaining > 0; line++)
        {
            // A full line while the rest still leaves room for a line end; then one shorter last line.
            int length = remaining >= fullLine + lineEnd.Length ? TextLineLength : remaining - lineEnd.Length;
            bool marked = markEvery > 0 && line % markEvery == 0 && length >= mark.Length;
            WriteText(output, random, length, marked ? mark : "");
            output.Write(lineEnd);
            remaining -= length + lineEnd.Length;
        }
        output.Write(tail);
        if (output.WrittenCount != totalBytes)
            throw new InvalidOperationException($"built {output.WrittenCount} bytes, not {totalBytes}");
        return output.WrittenSpan.ToArray();
    }

    private static void WriteText(ArrayBufferWriter<byte> output, Random random, int length, string prefix)
    {
        Span<byte> line = output.GetSpan(length)[..length];
        int position = Encoding.ASCII.GetBytes(prefix, line);
        while (position < length)
        {
            string word = Words[random.Next(Words.Length)];
            int take = Math.Min(word.Length, length - position);
            position += Encoding.ASCII.GetBytes(word.AsSpan(0, take), line[position..]);
            if (position < length)
                line[position++] = (byte)' ';
        }
        output.Advance(length);
    }
}
