using System.Buffers;
using System.Text;
using FastSpool.Delivery.Mbox;

namespace FastSpool.Delivery.Tests.Mbox;

public sealed class MboxEncoderTests
{
    [Fact]
    public void EncoderTurnsCrlfIntoLfAndEndsWithABlankLine() =>
        AssertEncodes("Subject: hi\r\n\r\nbody\r\n", "Subject: hi\n\nbody\n\n");

    [Fact]
    public void EncoderQuotesFromLinesInTheBody() =>
        AssertEncodes(
            "Subject: s\r\n\r\nFrom here\r\n>From there\r\nFrom\r\nFromage\r\nFrom:x\r\n From x\r\nfrom y\r\nFROM z\r\nFrom \r\nFrom\tx\r\n",
            "Subject: s\n\n>From here\n>From there\nFrom\nFromage\nFrom:x\n From x\nfrom y\nFROM z\n>From \nFrom\tx\n\n");

    [Fact]
    public void EncoderQuotesFromLinesInTheHeaderSection() =>
        AssertEncodes(
            "From someone@example.org Mon Jan  1 00:00:00 2024\r\nFrom: a@example.org\r\nSubject: From here\r\n\r\nx\r\n",
            ">From someone@example.org Mon Jan  1 00:00:00 2024\nFrom: a@example.org\nSubject: From here\n\nx\n\n");

    [Fact]
    public void EncoderLeavesQuotedFromLinesAlone() =>
        AssertEncodes("A: b\r\n\r\n>From a\r\n>>From b\r\n", "A: b\n\n>From a\n>>From b\n\n");

    [Fact]
    public void EncoderRemovesMailboxStateHeadersWithTheirContinuations() =>
        AssertEncodes(
            "Status: RO\r\nSubject: a\r\nX-Status: A\r\nx-uid: 5\r\nX-IMAP: 1 2\r\nX-IMAPbase: 1 2\r\n\tfolded\r\n"
            + "X-Keywords: a\r\n  b\r\n c\r\nCONTENT-LENGTH: 99\r\nX-Mailer: m\r\n continued\r\nStatus : RO\r\n"
            + "X-Statuses: keep\r\nStatusX: keep\r\nX-I: keep\r\nContent-Lengths: keep\r\nStatus\r\n\r\nbody\r\n",
            "Subject: a\nX-Mailer: m\n continued\nX-Statuses: keep\nStatusX: keep\nX-I: keep\nContent-Lengths: keep\nStatus\n\nbody\n\n");

    [Fact]
    public void EncoderStopsRemovingAtTheEndOfTheHeaderSection() =>
        AssertEncodes(
            "Subject: a\r\nStatus: RO\r\n continued\r\n\r\n indented body line\r\nStatus: kept in the body\r\nContent-Length: 5\r\n",
            "Subject: a\n\n indented body line\nStatus: kept in the body\nContent-Length: 5\n\n");

    [Fact]
    public void EncoderTreatsALeadingEmptyLineAsAnEmptyHeaderSection() =>
        AssertEncodes("\r\nStatus: x\r\nFrom y\r\n", "\nStatus: x\n>From y\n\n");

    [Fact]
    public void EncoderAddsAMissingFinalLineEnd()
    {
        AssertEncodes("Subject: a\r\n\r\nlast", "Subject: a\n\nlast\n\n");
        AssertEncodes("Subject: a\r\n\r\nFro", "Subject: a\n\nFro\n\n");
        AssertEncodes("Subject: a\r\n\r\nFrom ", "Subject: a\n\n>From \n\n");
        AssertEncodes("Subject: a", "Subject: a\n\n");
        AssertEncodes("Subj", "Subj\n\n");
        AssertEncodes("Subject: a\r\nStatus: RO", "Subject: a\n\n");
    }

    [Fact]
    public void EncoderWritesEmptyBodiesAndEmptyMessages()
    {
        AssertEncodes("Subject: a\r\n\r\n", "Subject: a\n\n\n");
        AssertEncodes("Subject: a\r\n", "Subject: a\n\n");
        AssertEncodes("", "\n");
        AssertEncodes("Status: RO\r\n", "\n");
    }

    [Fact]
    public void EncoderKeepsALoneCrAndEndsLinesAtABareLf()
    {
        AssertEncodes("A: b\r\n\r\nx\ry\r\n\r\r\n\r", "A: b\n\nx\ry\n\r\n\r\n\n");
        // A bare LF ends a line for every mbox reader, so the line after it must be quoted too.
        AssertEncodes("A: b\r\n\r\nx\nFrom y\r\n", "A: b\n\nx\n>From y\n\n");
        AssertEncodes("A: b\nStatus: x\n\nFrom z\n", "A: b\n\n>From z\n\n");
        AssertEncodes("A: b\r\n\rX: y\r\n\r\nFrom z\r\n", "A: b\n\rX: y\n\n>From z\n\n");
    }

    [Fact]
    public void EncoderCopiesEightBitText() =>
        AssertEncodes(
            "Subject: Grüße\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGrüße — 日本\r\nFrom Zürich\r\n",
            "Subject: Grüße\nContent-Type: text/plain; charset=utf-8\n\nGrüße — 日本\n>From Zürich\n\n");

    [Fact]
    public void EncoderCopiesHeaderNamesLongerThanItsLineStartBuffer() =>
        AssertEncodes(
            "X-" + new string('a', 60) + ": v\r\nStatus" + new string(' ', 40) + ": v\r\n\r\nb\r\n",
            "X-" + new string('a', 60) + ": v\nStatus" + new string(' ', 40) + ": v\n\nb\n\n");

    [Fact]
    public void EncoderEncodesAThousandLineMessageInAnyChunking()
    {
        (byte[] input, byte[] expected) = ThousandLineMessage();
        Assert.Equal(expected, EncodePieces(input));
        for (int chunk = 1; chunk <= 70; chunk++)
            Assert.Equal(expected, EncodeInChunks(input, chunk));
        var random = new Random(4155);
        for (int round = 0; round < 200; round++)
        {
            int first = random.Next(input.Length + 1);
            int second = random.Next(first, input.Length + 1);
            Assert.Equal(expected, EncodePieces(input[..first], input[first..second], input[second..]));
        }
    }

    [Fact]
    public void EncoderAllocatesNothingPerLine()
    {
        (byte[] input, byte[] expected) = ThousandLineMessage();
        var output = new ArrayBufferWriter<byte>(expected.Length * 2);
        var encoder = default(MboxEncoder);
        encoder.Encode(input, output); // warm up
        encoder.Finish(output);
        output.ResetWrittenCount();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < input.Length; i += 100)
            encoder.Encode(input.AsSpan(i, Math.Min(100, input.Length - i)), output);
        encoder.Finish(output);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(expected, output.WrittenSpan.ToArray());
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void EncoderIsReadyForTheNextMessageAfterFinish()
    {
        var output = new ArrayBufferWriter<byte>();
        var encoder = default(MboxEncoder);
        encoder.Encode("Status: RO\r\nA: b\r\n\r\nx"u8, output);
        encoder.Finish(output);
        encoder.Encode("Status: RO\r\nC: d\r\n\r\nFrom y\r\n"u8, output);
        encoder.Finish(output);
        Assert.Equal("A: b\n\nx\n\nC: d\n\n>From y\n\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void SeparatorHasTheFromLineReturnPathAndDeliveredTo()
    {
        var time = new DateTimeOffset(2024, 3, 4, 9, 5, 7, TimeSpan.Zero);
        const string expected = "From alice@example.org  Mon Mar  4 09:05:07 2024\nReturn-Path: <alice@example.org>\nDelivered-To: bob@example.net\n";

        string written = WriteSeparator("alice@example.org", "bob@example.net", time);

        Assert.Equal(expected, written);
    }

    [Fact]
    public void SeparatorNamesMailerDaemonForTheNullSenderAndWritesTheTimesOwnClock()
    {
        var time = new DateTimeOffset(2024, 12, 31, 23, 59, 59, TimeSpan.FromHours(-5));
        const string expected = "From MAILER-DAEMON  Tue Dec 31 23:59:59 2024\nReturn-Path: <>\nDelivered-To: bob@example.net\n";

        Assert.Equal(expected, WriteSeparator("", "bob@example.net", time));
    }

    [Fact]
    public void SeparatorWritesAnEightBitSenderAsOneAsciiTokenAndKeepsItWholeInReturnPath()
    {
        var time = new DateTimeOffset(2024, 3, 4, 9, 5, 7, TimeSpan.Zero);
        string written = WriteSeparator("jörg@bücher.example", "ユーザー@example.jp", time);
        Assert.Equal("From j_rg@b_cher.example  Mon Mar  4 09:05:07 2024\nReturn-Path: <jörg@bücher.example>\nDelivered-To: ユーザー@example.jp\n", written);
    }

    [Fact]
    public void ASenderWithSpacesCannotForgeTheFromLinesDate()
    {
        var time = new DateTimeOffset(2024, 3, 4, 9, 5, 7, TimeSpan.Zero);
        const string sender = "\"a b  Mon Jan  1 00:00:00 2024\"@example.test";
        string written = WriteSeparator(sender, "bob@example.net", time);
        Assert.Equal($"From \"a_b__Mon_Jan__1_00:00:00_2024\"@example.test  Mon Mar  4 09:05:07 2024\nReturn-Path: <{sender}>\nDelivered-To: bob@example.net\n", written);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', 0x09, (byte)'b' }, "a_b")] // tab
    [InlineData(new byte[] { (byte)'a', 0x7F, 0x01, (byte)'b' }, "a__b")] // DEL and a control character
    [InlineData(new byte[] { (byte)'a', 0xE2, 0x9C, 0x93, 0xC3, 0xBC, (byte)'b' }, "a__b")] // two UTF-8 characters
    [InlineData(new byte[] { (byte)'a', 0x80, 0x80, (byte)'b' }, "a_b")] // a stray continuation byte and its run
    [InlineData(new byte[] { 0xBF }, "_")]
    public void OddSenderBytesBecomeUnderscoresInTheFromLine(byte[] sender, string token)
    {
        int length = MboxEncoder.GetSeparatorLength(sender, "c"u8);
        byte[] buffer = new byte[length];
        Assert.Equal(length, MboxEncoder.WriteSeparator(buffer, sender, "c"u8, DateTimeOffset.UnixEpoch));
        byte[] expected = [.. "From "u8, .. Encoding.ASCII.GetBytes(token), .. "  Thu Jan  1 00:00:00 1970\nReturn-Path: <"u8, .. sender, .. ">\nDelivered-To: c\n"u8];
        Assert.Equal(expected, buffer);
    }

    [Fact]
    public void SeparatorRefusesLineBreaksAndShortDestinations()
    {
        var time = DateTimeOffset.UnixEpoch;
        byte[] buffer = new byte[200];
        Assert.Throws<ArgumentException>(() => MboxEncoder.WriteSeparator(buffer, "a\r\nb"u8, "c"u8, time));
        Assert.Throws<ArgumentException>(() => MboxEncoder.WriteSeparator(buffer, "a"u8, "c\nFrom x"u8, time));
        int length = MboxEncoder.GetSeparatorLength("a"u8, "c"u8);
        Assert.Throws<ArgumentException>(() => MboxEncoder.WriteSeparator(buffer.AsSpan(0, length - 1), "a"u8, "c"u8, time));
        Assert.Equal(length, MboxEncoder.WriteSeparator(buffer.AsSpan(0, length), "a"u8, "c"u8, time));
    }

    [Theory]
    [InlineData(1970, 1, 1, 0, 0, 0, "Thu Jan  1 00:00:00 1970")]
    [InlineData(2024, 3, 4, 9, 5, 7, "Mon Mar  4 09:05:07 2024")]
    [InlineData(2024, 12, 31, 23, 59, 59, "Tue Dec 31 23:59:59 2024")]
    [InlineData(2000, 2, 29, 12, 30, 0, "Tue Feb 29 12:30:00 2000")]
    public void AsctimePadsTheDayWithASpace(int year, int month, int day, int hour, int minute, int second, string expected)
    {
        byte[] buffer = new byte[24];
        MboxEncoder.WriteAsctime(buffer, new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified));
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer));
    }

    /// <summary>Encodes whole, then split at every point into two and three pieces, then byte by byte; all must
    /// give <paramref name="expected"/>.</summary>
    private static void AssertEncodes(string input, string expected)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(input);
        Assert.Equal(expected, Encoding.UTF8.GetString(EncodePieces(bytes)));
        for (int i = 0; i <= bytes.Length; i++)
        {
            Assert.Equal(expected, Encoding.UTF8.GetString(EncodePieces(bytes[..i], bytes[i..])));
            for (int j = i; j <= bytes.Length; j++)
                Assert.Equal(expected, Encoding.UTF8.GetString(EncodePieces(bytes[..i], bytes[i..j], bytes[j..])));
        }
        Assert.Equal(expected, Encoding.UTF8.GetString(EncodeInChunks(bytes, 1)));
    }

    private static byte[] EncodePieces(params byte[][] pieces)
    {
        var output = new ArrayBufferWriter<byte>();
        var encoder = default(MboxEncoder);
        foreach (byte[] piece in pieces)
            encoder.Encode(piece, output);
        encoder.Finish(output);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] EncodeInChunks(byte[] input, int size)
    {
        var output = new ArrayBufferWriter<byte>();
        var encoder = default(MboxEncoder);
        for (int i = 0; i < input.Length; i += size)
            encoder.Encode(input.AsSpan(i, Math.Min(size, input.Length - i)), output);
        encoder.Finish(output);
        return output.WrittenSpan.ToArray();
    }

    private static string WriteSeparator(string sender, string recipient, DateTimeOffset time)
    {
        byte[] senderBytes = Encoding.UTF8.GetBytes(sender);
        byte[] recipientBytes = Encoding.UTF8.GetBytes(recipient);
        byte[] buffer = new byte[MboxEncoder.GetSeparatorLength(senderBytes, recipientBytes)];
        int written = MboxEncoder.WriteSeparator(buffer, senderBytes, recipientBytes, time);
        Assert.Equal(buffer.Length, written);
        return Encoding.UTF8.GetString(buffer);
    }

    /// <summary>A message of 1000 body lines, with its expected mbox form built line by line alongside.</summary>
    private static (byte[] Input, byte[] Expected) ThousandLineMessage()
    {
        var input = new StringBuilder();
        var expected = new StringBuilder();
        input.Append("Received: from a by b\r\n\tfor <c>; Mon, 4 Mar 2024 09:05:07 +0000\r\n");
        expected.Append("Received: from a by b\n\tfor <c>; Mon, 4 Mar 2024 09:05:07 +0000\n");
        input.Append("X-Keywords: $Forwarded\r\n junk\r\nSubject: lines\r\nStatus: RO\r\n\r\n");
        expected.Append("Subject: lines\n\n");
        for (int i = 0; i < 1000; i++)
        {
            string line = (i % 7) switch
            {
                0 => $"From line {i}",
                1 => $">From line {i}",
                2 => "",
                3 => $"Status: {i}",
                4 => $"Fro{i}",
                5 => new string('x', i % 150),
                _ => $"line {i} with some text to copy in bulk, enough to cross chunk boundaries",
            };
            input.Append(line).Append("\r\n");
            expected.Append(line.StartsWith("From ", StringComparison.Ordinal) ? ">" + line : line).Append('\n');
        }
        expected.Append('\n');
        return (Encoding.UTF8.GetBytes(input.ToString()), Encoding.UTF8.GetBytes(expected.ToString()));
    }
}
