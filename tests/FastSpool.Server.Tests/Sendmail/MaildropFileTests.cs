using System.Text;
using FastSpool.Protocols.Smtp;
using FastSpool.Queue.Pickup;

namespace FastSpool.Server.Tests.Sendmail;

/// <summary>The maildrop file's layout: what is written reads back; anything short, long or strange is refused
/// with what is wrong.</summary>
public sealed class MaildropFileTests
{
    private static readonly MaildropEnvelope Envelope = new("me@host",
        [new("a@x", DsnNotify.None), new("b@y", DsnNotify.Success | DsnNotify.Failure)], DsnReturn.Headers, "env 1", EightBitMime: true);

    private static byte[] Written(string message)
    {
        var file = new MemoryStream();
        long sizeAt = MaildropFile.WriteEnvelope(file, Envelope);
        long start = file.Position;
        file.Write(Encoding.UTF8.GetBytes(message));
        MaildropFile.WriteSize(file, sizeAt, file.Position - start);
        return file.ToArray();
    }

    [Fact]
    public void WhatIsWrittenReadsBack()
    {
        var file = new MemoryStream(Written("Subject: s\r\n\r\nbody\r\n"));
        MaildropEnvelope read = MaildropFile.Read(file, 1000, out long length);
        Assert.Equal(Envelope.Sender, read.Sender);
        Assert.Equal(Envelope.Recipients, read.Recipients);
        Assert.Equal((Envelope.Return, Envelope.EnvelopeId, Envelope.EightBitMime), (read.Return, read.EnvelopeId, read.EightBitMime));
        Assert.Equal(20, length);
        Assert.Equal("Subject: s\r\n\r\nbody\r\n", new StreamReader(file).ReadToEnd());
    }

    [Fact]
    public void EveryShorterFileIsRefused()
    {
        byte[] whole = Written("Subject: s\r\n\r\nbody\r\n");
        for (int length = 0; length < whole.Length; length++)
            Assert.Throws<InvalidDataException>(() => MaildropFile.Read(new MemoryStream(whole[..length]), 1000, out _));
    }

    [Fact]
    public void ALongerFileIsRefused()
    {
        byte[] whole = Written("x\r\n");
        var e = Assert.Throws<InvalidDataException>(() => MaildropFile.Read(new MemoryStream([.. whole, (byte)'y']), 1000, out _));
        Assert.Equal("the message has 4 octets, the envelope says 3", e.Message);
    }

    [Theory]
    [InlineData("garbage\n", "not a maildrop file")]
    [InlineData("FastSpool maildrop 1\nsender a@x\nsize 00000000000000000000\n\n", "no recipient")]
    [InlineData("FastSpool maildrop 1\nrecipient b@y 0\nsize 00000000000000000000\n\n", "no sender line")]
    [InlineData("FastSpool maildrop 1\nsender a@x\nrecipient b@y 0\n\n", "no size line")]
    [InlineData("FastSpool maildrop 1\nsender a@x\nrecipient b@y x\nsize 00000000000000000000\n\n", "bad recipient line")]
    [InlineData("FastSpool maildrop 1\nsender a@x\nrecipient b@y 0\nuid 0\nsize 00000000000000000000\n\n", "unknown envelope line: uid 0")]
    // Written by hand into the shared maildrop, without sendmail: checked as the SMTP server checks MAIL and RCPT.
    [InlineData("FastSpool maildrop 1\nsender a\rb@x\nrecipient b@y 0\nsize 00000000000000000000\n\n", "a CR or NUL in the envelope")]
    [InlineData("FastSpool maildrop 1\nsender a b@x\nrecipient b@y 0\nsize 00000000000000000000\n\n", "bad sender line")]
    [InlineData("FastSpool maildrop 1\nsender nodomain\nrecipient b@y 0\nsize 00000000000000000000\n\n", "bad sender line")]
    [InlineData("FastSpool maildrop 1\nsender a@x\nsender c@x\nrecipient b@y 0\nsize 00000000000000000000\n\n", "bad sender line")]
    [InlineData("FastSpool maildrop 1\nsender a@x\nrecipient <b@y> 0\nsize 00000000000000000000\n\n", "bad recipient line")]
    [InlineData("FastSpool maildrop 1\nsender a@x\nrecipient b@y> 0\nsize 00000000000000000000\n\n", "bad recipient line")]
    [InlineData("FastSpool maildrop 1\nsender a@x\nrecipient b@y 3\nsize 00000000000000000000\n\n", "bad recipient line")] // NEVER with SUCCESS
    [InlineData("FastSpool maildrop 1\nsender a@x\nrecipient b@y 16\nsize 00000000000000000000\n\n", "bad recipient line")]
    [InlineData("FastSpool maildrop 1\nsender a@x\nrecipient b@y 0\nenvid \u00e9\nsize 00000000000000000000\n\n", "bad envid line")]
    [InlineData("FastSpool maildrop 1\nsender a@x\nrecipient b@y 0\nrecipient c@y 0\nrecipient d@y 0\nsize 00000000000000000000\n\n", "more than 2 recipients")]
    public void AStrangeFileIsRefusedSayingWhy(string content, string expected) =>
        Assert.StartsWith(expected, Assert.Throws<InvalidDataException>(() => MaildropFile.Read(new MemoryStream(Encoding.UTF8.GetBytes(content)), 2, out _)).Message);

    [Fact]
    public void ALineBreakCannotBeSmuggledIntoTheEnvelope() =>
        Assert.Throws<ArgumentException>(() => MaildropFile.WriteEnvelope(new MemoryStream(), Envelope with { Sender = "a\nrecipient evil@x 0" }));
}
