using System.Diagnostics.CodeAnalysis;
using System.Text;
using BenchmarkDotNet.Attributes;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Perf.Protocols;

/// <summary>The MAIL/RCPT argument parsers alone (no line reading), over the address forms of RFC 5321 §4.1.2
/// that take different paths: dot-atoms, the null path, quoted local parts, source routes, address literals and
/// UTF-8 (RFC 6531); and with the DSN parameters of RFC 3461 (RET, ENVID, NOTIFY, ORCPT).</summary>
[MemoryDiagnoser]
public class SmtpAddressBenchmarks
{
    private byte[] _dotAtom = [];
    private byte[] _nullPath = [];
    private byte[] _quoted = [];
    private byte[] _sourceRoute = [];
    private byte[] _ipv4Literal = [];
    private byte[] _ipv6Literal = [];
    private byte[] _utf8 = [];
    private byte[] _barePostmaster = [];
    private byte[] _mailWithDsn = [];
    private byte[] _rcptWithDsn = [];

    [GlobalSetup]
    public void Setup()
    {
        _dotAtom = Encoding.ASCII.GetBytes("TO:<first.last+tag@mail.sub.example.org>");
        _nullPath = Encoding.ASCII.GetBytes("FROM:<> SIZE=2048");
        _quoted = Encoding.ASCII.GetBytes("TO:<\"john \\\"jr\\\" smith\"@example.org>");
        _sourceRoute = Encoding.ASCII.GetBytes("TO:<@relay1.example.net,@relay2.example.net:bob@example.org>");
        _ipv4Literal = Encoding.ASCII.GetBytes("TO:<postmaster@[192.0.2.1]>");
        _ipv6Literal = Encoding.ASCII.GetBytes("TO:<postmaster@[IPv6:2001:db8::1]>");
        _utf8 = Encoding.UTF8.GetBytes("FROM:<jösé.müller@bücher.example> SMTPUTF8");
        _barePostmaster = Encoding.ASCII.GetBytes("TO:<Postmaster>");
        _mailWithDsn = Encoding.ASCII.GetBytes("FROM:<bob@example.org> SIZE=2048 RET=HDRS ENVID=QQ314159+2B2718");
        _rcptWithDsn = Encoding.ASCII.GetBytes(
            "TO:<alice@example.org> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;alice+2Btag@example.org");
    }

    [Benchmark]
    public int DotAtom() => Rcpt(_dotAtom);

    [Benchmark]
    public long NullReversePath()
    {
        ArgumentError error = SmtpCommandParser.TryParseMailFrom(_nullPath, out MailFromCommand mail);
        return error == ArgumentError.None && mail.IsNullPath ? mail.Size : Fail();
    }

    [Benchmark]
    public int QuotedLocalPart() => Rcpt(_quoted);

    [Benchmark]
    public int SourceRoute() => Rcpt(_sourceRoute);

    [Benchmark]
    public int IPv4Literal() => Rcpt(_ipv4Literal);

    [Benchmark]
    public int IPv6Literal() => Rcpt(_ipv6Literal);

    [Benchmark]
    public int Utf8WithSmtpUtf8()
    {
        ArgumentError error = SmtpCommandParser.TryParseMailFrom(_utf8, out MailFromCommand mail);
        return error == ArgumentError.None && mail.SmtpUtf8 && mail.HasNonAscii ? mail.PathLength : Fail();
    }

    [Benchmark]
    public int BarePostmaster() => Rcpt(_barePostmaster);

    [Benchmark]
    public int MailFromWithDsn()
    {
        ArgumentError error = SmtpCommandParser.TryParseMailFrom(_mailWithDsn, out MailFromCommand mail);
        return error == ArgumentError.None && mail.Ret == DsnReturn.Headers ? mail.EnvIdLength : Fail();
    }

    [Benchmark]
    public int RcptToWithDsn()
    {
        ArgumentError error = SmtpCommandParser.TryParseRcptTo(_rcptWithDsn, allowUtf8: false, out RcptToCommand rcpt);
        return error == ArgumentError.None && rcpt.Notify != DsnNotify.None ? rcpt.OrcptLength : Fail();
    }

    private static int Rcpt(ReadOnlySpan<byte> argument)
    {
        ArgumentError error = SmtpCommandParser.TryParseRcptTo(argument, allowUtf8: false, out RcptToCommand rcpt);
        return error == ArgumentError.None ? rcpt.PathLength : Fail();
    }

    [DoesNotReturn]
    private static int Fail() => throw new InvalidOperationException("the address was not parsed as expected");
}
