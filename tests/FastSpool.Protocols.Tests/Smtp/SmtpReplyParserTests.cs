using System.Buffers;
using System.Text;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Protocols.Tests.Smtp;

public sealed class SmtpReplyParserTests
{
    private static (ReplyReadStatus Status, int Code, string Reply, long Consumed) Read(ReadOnlySequence<byte> input)
    {
        var reader = new SequenceReader<byte>(input);
        ReplyReadStatus status = SmtpReplyParser.TryReadReply(ref reader, out int code, out ReadOnlySequence<byte> reply);
        return (status, code, Encoding.ASCII.GetString(reply.ToArray()), reader.Consumed);
    }

    [Theory]
    [InlineData("250 2.0.0 Ok: queued as 1\r\n", 250)]
    [InlineData("220 fake ESMTP\r\n", 220)]
    [InlineData("354 go ahead\r\n", 354)]
    [InlineData("451\r\n", 451)]
    [InlineData("250-mail.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n", 250)]
    [InlineData("221 bye\n", 221)]
    public void ReadsWholeRepliesAtEverySplitPoint(string text, int code)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text + "250 next\r\n");
        for (int at = 0; at <= bytes.Length; at++)
        {
            var result = Read(SegmentedSequence.Split(bytes, at));
            Assert.Equal(ReplyReadStatus.Complete, result.Status);
            Assert.Equal(code, result.Code);
            Assert.Equal(text, result.Reply);
            Assert.Equal(text.Length, result.Consumed);
        }
        Assert.Equal(code, Read(Bytewise(bytes)).Code);
    }

    [Fact]
    public void APartialReplyNeedsMoreAndLeavesTheReaderWhereItWas()
    {
        byte[] bytes = "250-mail.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n"u8.ToArray();
        for (int length = 0; length < bytes.Length; length++)
        {
            var reader = new SequenceReader<byte>(Bytewise(bytes[..length]));
            Assert.Equal(ReplyReadStatus.Incomplete, SmtpReplyParser.TryReadReply(ref reader, out _, out _));
            Assert.Equal(0, reader.Consumed);
        }
    }

    [Fact]
    public void PipelinedRepliesAreReadOneByOne()
    {
        var reader = new SequenceReader<byte>(Bytewise("250 ok\r\n550 5.1.1 no\r\n354 go\r\n"u8.ToArray()));
        int[] codes = new int[3];
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(ReplyReadStatus.Complete, SmtpReplyParser.TryReadReply(ref reader, out codes[i], out _));
        }
        Assert.Equal([250, 550, 354], codes);
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData("hello\r\n")]
    [InlineData("25\r\n")]
    [InlineData("2x0 what\r\n")]
    [InlineData("650 out of range\r\n")]
    [InlineData("250-first\r\n251 other code\r\n")]
    [InlineData("250+odd\r\n")]
    public void NonRepliesAreMalformed(string text) =>
        Assert.Equal(ReplyReadStatus.Malformed, Read(Bytewise(Encoding.ASCII.GetBytes(text))).Status);

    private static ReadOnlySequence<byte> Bytewise(byte[] bytes) =>
        SegmentedSequence.Split(bytes, [.. Enumerable.Range(1, Math.Max(0, bytes.Length - 1))]);

    [Fact]
    public void EhloKeywordsAreFoundCaseInsensitivelyAtEverySplitPoint()
    {
        byte[] bytes = ("250-mail.test says PIPELINING\r\n250-pipelining\r\n250-SIZE 10485760\r\n250-Chunking\r\n250-8BITMIME\r\n"
            + "250-smtputf8\r\n250-DSN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH CRAM-MD5 login PLAIN\r\n").Select(c => (byte)c).ToArray();
        for (int at = 0; at <= bytes.Length; at++)
        {
            EhloReply ehlo = SmtpReplyParser.ReadExtensions(SegmentedSequence.Split(bytes, at));
            Assert.Equal(SmtpExtensions.Pipelining | SmtpExtensions.Chunking | SmtpExtensions.Size | SmtpExtensions.EightBitMime | SmtpExtensions.SmtpUtf8
                | SmtpExtensions.Dsn | SmtpExtensions.StartTls | SmtpExtensions.EnhancedStatusCodes | SmtpExtensions.AuthLogin | SmtpExtensions.AuthPlain,
                ehlo.Extensions);
            Assert.Equal(10485760, ehlo.MaxSize);
        }
    }

    [Theory]
    [InlineData("250-host\r\n250 SIZE\r\n", 0)]
    [InlineData("250-host\r\n250 SIZE 0\r\n", 0)]
    [InlineData("250-host\r\n250 SIZE x\r\n", 0)]
    [InlineData("250-host\r\n250 SIZE 1000\r\n", 1000)]
    public void SizeWithoutALimitGivesNone(string text, long limit)
    {
        EhloReply ehlo = SmtpReplyParser.ReadExtensions(SegmentedSequence.Create(Encoding.ASCII.GetBytes(text)));
        Assert.True(ehlo.Has(SmtpExtensions.Size));
        Assert.Equal(limit, ehlo.MaxSize);
    }

    [Fact]
    public void TheGreetingLineIsNoKeywordAndPrefixesDoNotCount()
    {
        Assert.Equal(SmtpExtensions.None, SmtpReplyParser.ReadExtensions(SegmentedSequence.Create("250 PIPELINING\r\n"u8.ToArray())).Extensions);
        Assert.Equal(SmtpExtensions.None,
            SmtpReplyParser.ReadExtensions(SegmentedSequence.Create("250-host\r\n250-PIPELININGX\r\n250-AUTHX PLAIN\r\n250 CHUNK\r\n"u8.ToArray())).Extensions);
    }
}
