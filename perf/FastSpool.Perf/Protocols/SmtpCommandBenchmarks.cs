using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using BenchmarkDotNet.Attributes;
using FastSpool.Perf.Infrastructure;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Perf.Protocols;

/// <summary>One command line per operation, as the session handles it: <see cref="CommandLineReader"/> splits the
/// line off the input, <see cref="SmtpCommandParser.ParseVerb"/> finds the verb, then the verb's argument parser.
/// Each benchmark checks its outcome, so a parser that starts refusing the line fails loudly.</summary>
[MemoryDiagnoser]
public class SmtpCommandBenchmarks
{
    private const int MaxCommandLine = 512; // RFC 5321 §4.5.3.1.4, as SmtpSession uses it

    private readonly byte[] _lineBuffer = new byte[MaxCommandLine];
    private CommandLineReader _lineReader;

    private ReadOnlySequence<byte> _ehlo;
    private ReadOnlySequence<byte> _mailFrom;
    private ReadOnlySequence<byte> _mailFromSplit;
    private ReadOnlySequence<byte> _rcptTo;
    private ReadOnlySequence<byte> _data;
    private ReadOnlySequence<byte> _quit;

    [GlobalSetup]
    public void Setup()
    {
        _ehlo = Line("EHLO client.example.org\r\n");
        _mailFrom = Line("MAIL FROM:<bob.example@example.org> SIZE=1048576 BODY=8BITMIME\r\n");
        byte[] mail = Encoding.ASCII.GetBytes("MAIL FROM:<bob.example@example.org> SIZE=1048576 BODY=8BITMIME\r\n");
        _mailFromSplit = SequenceSegment.Create(mail[..20], mail[20..]);
        _rcptTo = Line("RCPT TO:<alice.example@example.org>\r\n");
        _data = Line("DATA\r\n");
        _quit = Line("QUIT\r\n");
    }

    [Benchmark]
    public int Ehlo()
    {
        Expect(ReadCommand(_ehlo, out ReadOnlySpan<byte> argument), SmtpVerb.Ehlo);
        return SmtpCommandParser.IsValidHeloArgument(argument) ? argument.Length : Fail();
    }

    [Benchmark]
    public long MailFromWithSizeAndBody() => MailFrom(_mailFrom);

    /// <summary>The same MAIL line split across two input segments: the line is copied into the line buffer.</summary>
    [Benchmark]
    public long MailFromAcrossSegments() => MailFrom(_mailFromSplit);

    [Benchmark]
    public int RcptTo()
    {
        Expect(ReadCommand(_rcptTo, out ReadOnlySpan<byte> argument), SmtpVerb.Rcpt);
        ArgumentError error = SmtpCommandParser.TryParseRcptTo(argument, allowUtf8: false, out RcptToCommand rcpt);
        return error == ArgumentError.None ? rcpt.PathLength : Fail();
    }

    [Benchmark]
    public int Data()
    {
        Expect(ReadCommand(_data, out ReadOnlySpan<byte> argument), SmtpVerb.Data);
        return argument.IsEmpty ? 1 : Fail();
    }

    [Benchmark]
    public int Quit()
    {
        Expect(ReadCommand(_quit, out ReadOnlySpan<byte> argument), SmtpVerb.Quit);
        return argument.IsEmpty ? 1 : Fail();
    }

    private long MailFrom(in ReadOnlySequence<byte> input)
    {
        Expect(ReadCommand(input, out ReadOnlySpan<byte> argument), SmtpVerb.Mail);
        ArgumentError error = SmtpCommandParser.TryParseMailFrom(argument, out MailFromCommand mail);
        return error == ArgumentError.None && mail.Body == BodyType.EightBitMime ? mail.Size : Fail();
    }

    // The session's ProcessCommand: read one line, use it in place or copy a line that spans segments.
    private SmtpVerb ReadCommand(in ReadOnlySequence<byte> input, out ReadOnlySpan<byte> argument)
    {
        var reader = new SequenceReader<byte>(input);
        if (_lineReader.TryReadLine(ref reader, MaxCommandLine, out ReadOnlySequence<byte> line) != LineReadStatus.Line)
            Fail();
        ReadOnlySpan<byte> span;
        if (line.IsSingleSegment)
        {
            span = line.FirstSpan;
        }
        else
        {
            line.CopyTo(_lineBuffer);
            span = _lineBuffer.AsSpan(0, (int)line.Length);
        }
        return SmtpCommandParser.ParseVerb(span, out argument);
    }

    private static ReadOnlySequence<byte> Line(string text) => new(Encoding.ASCII.GetBytes(text));

    private static void Expect(SmtpVerb actual, SmtpVerb expected)
    {
        if (actual != expected)
            Fail();
    }

    [DoesNotReturn]
    private static int Fail() => throw new InvalidOperationException("the command was not parsed as expected");
}
