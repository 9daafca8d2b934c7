using System.Text;
using FastSpool.Cli.Sendmail;

namespace FastSpool.Server.Tests.Cli;

/// <summary>The message as sendmail reads it from a program: lines with LF or CRLF, a lone dot ending it unless -i,
/// what cannot be stored refused with its line number; the head completed as Postfix's cleanup completes it.</summary>
public sealed class SendmailMessageTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A stream that gives at most <paramref name="step"/> octets a read: lines cross every buffer edge.</summary>
    private sealed class Trickle(byte[] data, int step) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, step));
    }

    private static List<string> Lines(string input, bool ignoreDots = false, int step = int.MaxValue, int maxLineLength = 1000)
    {
        var lines = new MessageLines(new Trickle(Encoding.UTF8.GetBytes(input), step), ignoreDots, maxLineLength);
        var result = new List<string>();
        while (lines.TryRead(out ReadOnlyMemory<byte> line))
            result.Add(Encoding.UTF8.GetString(line.Span));
        return result;
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(3)]
    public void BareLfAndCrlfAreBothLineEnds(int step) =>
        Assert.Equal(["a", "b", "", "c", "last"], Lines("a\nb\r\n\r\nc\nlast", step: step));

    [Fact]
    public void ALoneDotEndsTheMessageWithoutI() => Assert.Equal(["a"], Lines("a\n.\nafter\n"));

    [Fact]
    public void WithIALoneDotIsText() => Assert.Equal(["a", ".", "after"], Lines("a\n.\nafter\n", ignoreDots: true));

    [Fact]
    public void ADotWithMoreIsTextEitherWay() => Assert.Equal(["..x", ". "], Lines("..x\n. \n"));

    [Fact]
    public void ALineLongerThanTheBufferIsRead()
    {
        string longLine = new('x', 900);
        Assert.Equal([longLine, "b"], Lines(longLine + "\nb\n", step: 7));
    }

    /// <summary>As Postfix breaks a line that it sends by SMTP: after as many octets as a line may hold, the rest goes
    /// on in lines of their own that start with a space; a line of exactly the limit, its CR split from its LF by a
    /// read, is not broken.</summary>
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(998)]
    [InlineData(999)]
    public void ALineOverTheLimitIsBrokenWithASpaceBeforeEachRest(int step)
    {
        string longLine = string.Concat(Enumerable.Range(0, 2500).Select(i => (char)('a' + (i % 26))));
        var lines = new MessageLines(new Trickle(Encoding.UTF8.GetBytes("a\n" + longLine + "\r\n" + new string('x', 998) + "\r\n.\n"), step),
            ignoreDots: false, 1000);
        var result = new List<string>();
        while (lines.TryRead(out ReadOnlyMemory<byte> line))
            result.Add(Encoding.UTF8.GetString(line.Span));
        Assert.Equal(["a", longLine[..998], " " + longLine[998..1995], " " + longLine[1995..], new string('x', 998)], result);
        Assert.Equal(1, lines.LinesBroken);
        Assert.Equal(4, lines.LineNumber);
    }

    /// <summary>A header field longer than the limit is folded at a space, so -t finds every address whole (a cut
    /// inside one would send mail to part of it).</summary>
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(5)]
    public void ALongHeaderFieldIsFoldedAtASpaceAndEveryAddressStaysWhole(int step)
    {
        string[] addresses = [.. Enumerable.Range(0, 60).Select(i => $"user{i:D3}@example.com")];
        string input = "To: " + string.Join(", ", addresses) + "\nSubject: many\n\nbody\n";
        var lines = new MessageLines(new Trickle(Encoding.UTF8.GetBytes(input), step), ignoreDots: true, 1000);
        MessageHead head = MessageHead.Read(lines);
        Assert.Equal(addresses, head.HeaderRecipients());
        string text = Encoding.UTF8.GetString(head.Complete("me@host", null, "host", Now));
        string[] fieldLines = text.Split("\r\n");
        Assert.All(fieldLines, l => Assert.True(l.Length <= 998, l));
        Assert.Equal(2, fieldLines.Count(l => l.StartsWith("To: ", StringComparison.Ordinal) || l.StartsWith(' ')));
        Assert.Equal("To: " + string.Join(", ", addresses), string.Concat(fieldLines.TakeWhile(l => !l.StartsWith("Subject", StringComparison.Ordinal))));
    }

    [Fact]
    public void ALoneDotAfterABrokenLineStillEndsTheMessage() =>
        Assert.Equal([new string('y', 998), " y", "z"], Lines(new string('y', 999) + "\nz\n.\nafter\n"));

    [Theory]
    [InlineData("a\nb\rc\n", "line 2 holds a carriage return not followed by a line feed")]
    [InlineData("a\0b\n", "line 1 holds a NUL")]
    public void WhatTheQueueCannotKeepIsRefused(string input, string expected) =>
        Assert.Equal(expected, Assert.Throws<InvalidDataException>(() => Lines(input)).Message);

    private static (MessageHead Head, List<string> Body) Read(string input)
    {
        var lines = new MessageLines(new MemoryStream(Encoding.UTF8.GetBytes(input)), ignoreDots: true, 1000);
        MessageHead head = MessageHead.Read(lines);
        var body = new List<string>();
        while (lines.TryRead(out ReadOnlyMemory<byte> line))
            body.Add(Encoding.UTF8.GetString(line.Span));
        return (head, body);
    }

    [Fact]
    public void MissingFromDateAndMessageIdAreAddedAndBccIsRemoved()
    {
        (MessageHead head, List<string> body) = Read("To: a@x\nBcc: secret@x,\n  other@x\nSubject: s\n\nbody\n");
        string text = Encoding.UTF8.GetString(head.Complete("me@host", null, "host", Now));
        Assert.Matches(
            "^To: a@x\r\nSubject: s\r\nFrom: me@host\r\nDate: Mon, 30 Nov 2026 12:00:00 \\+0000\r\nMessage-ID: <20261130120000\\.[0-9A-F]{16}@host>\r\n\r\n$",
            text);
        Assert.Equal(["body"], body);
        Assert.Equal(["a@x", "secret@x", "other@x"], head.HeaderRecipients());
    }

    [Fact]
    public void AResentMessageTakesItsRecipientsFromTheResentFieldsAndGetsTheResentFieldsAdded()
    {
        (MessageHead head, _) = Read("From: a@x\nTo: old@x\nDate: Tue, 1 Dec 2026 00:00:00 +0100\nMessage-ID: <a@b>\n"
            + "Resent-To: new@x\nResent-Bcc: hidden@x\n\nbody\n");
        Assert.True(head.Resent);
        Assert.Equal(["new@x", "hidden@x"], head.HeaderRecipients());
        string text = Encoding.UTF8.GetString(head.Complete("me@host", null, "host", Now));
        // RFC 5322 §3.6.6: the resent fields added go first, with the resent block at the top.
        Assert.Matches(
            "^Resent-From: me@host\r\nResent-Date: Mon, 30 Nov 2026 12:00:00 \\+0000\r\nResent-Message-ID: <20261130120000\\.[0-9A-F]{16}@host>\r\n"
            + "From: a@x\r\nTo: old@x\r\nDate: Tue, 1 Dec 2026 00:00:00 \\+0100\r\nMessage-ID: <a@b>\r\nResent-To: new@x\r\n\r\n$",
            text);
    }

    [Fact]
    public void PresentFieldsAreKeptAsTheyAre()
    {
        (MessageHead head, _) = Read("from: X <x@y>\nDATE: Tue, 1 Dec 2026 00:00:00 +0100\nMessage-Id: <a@b>\n\n");
        Assert.Equal("from: X <x@y>\r\nDATE: Tue, 1 Dec 2026 00:00:00 +0100\r\nMessage-Id: <a@b>\r\n\r\n",
            Encoding.UTF8.GetString(head.Complete("me@host", "Me", "host", Now)));
    }

    [Fact]
    public void TheFullNameGoesIntoAnAddedFromEncodedWhenNeeded()
    {
        (MessageHead head, _) = Read("Subject: s\n\n");
        string text = Encoding.UTF8.GetString(head.Complete("me@host", "Zoë Smith", "host", Now));
        Assert.Contains("From: =?utf-8?", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<me@host>\r\n", text);
    }

    [Fact]
    public void GroupsCommentsAndNamesInToAreReadByMimeKit()
    {
        (MessageHead head, _) = Read("To: friends: a@x, \"B, b\" <b@x>;, c@x (comment)\nCc: =?utf-8?q?D=C3=A9?= <d@x>\n\n");
        Assert.Equal(["a@x", "b@x", "c@x", "d@x"], head.HeaderRecipients());
    }

    [Fact]
    public void AnMboxFromLineIsDropped()
    {
        (MessageHead head, List<string> body) = Read("From me@x Mon Nov 30 12:00:00 2026\nSubject: s\n\nb\n");
        Assert.StartsWith("Subject: s\r\n", Encoding.UTF8.GetString(head.Complete("m@h", null, "h", Now)), StringComparison.Ordinal);
        Assert.Equal(["b"], body);
    }

    [Fact]
    public void AFirstLineThatIsNoHeaderStartsTheBody()
    {
        (MessageHead head, List<string> body) = Read("just text\nmore\n");
        string text = Encoding.UTF8.GetString(head.Complete("m@h", null, "h", Now));
        Assert.EndsWith("\r\n\r\njust text\r\n", text, StringComparison.Ordinal);
        Assert.StartsWith("From: m@h\r\n", text, StringComparison.Ordinal);
        Assert.Equal(["more"], body);
    }

    [Fact]
    public void AnEightBitHeadOrEncodingIsNoticed()
    {
        Assert.True(Read("Content-Transfer-Encoding: 8bit\n\n").Head.LooksEightBit());
        Assert.True(Read("Subject: Zoë\n\n").Head.LooksEightBit());
        Assert.False(Read("Content-Transfer-Encoding: quoted-printable\n\n").Head.LooksEightBit());
    }
}
