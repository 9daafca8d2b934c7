using System.Text;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Protocols.Tests.Smtp;

public sealed class MailFromParsingTests
{
    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static string Text(ReadOnlySpan<byte> s) => Encoding.UTF8.GetString(s);

    private static ArgumentError Parse(string argument, out MailFromCommand command, out byte[] bytes)
    {
        bytes = Bytes(argument);
        return SmtpCommandParser.TryParseMailFrom(bytes, out command);
    }

    /// <summary>A dot-atom domain of exactly <paramref name="length"/> octets.</summary>
    internal static string Domain(int length)
    {
        var domain = new StringBuilder(length);
        for (int i = 0; i < length; i++)
            domain.Append(i % 50 == 49 && i != length - 1 ? '.' : 'd');
        return domain.ToString();
    }

    [Fact]
    public void MailFromReadsMailboxLocalPartAndDomain()
    {
        Assert.Equal(ArgumentError.None, Parse("FROM:<user@example.com>", out MailFromCommand mail, out byte[] arg));
        Assert.Equal("user@example.com", Text(mail.GetReversePath(arg)));
        Assert.Equal(6, mail.PathStart);
        Assert.Equal(16, mail.PathLength);
        Assert.Equal(11, mail.DomainStart);
        Assert.Equal("user", Text(mail.GetLocalPart(arg)));
        Assert.Equal("example.com", Text(mail.GetDomain(arg)));
        Assert.False(mail.IsNullPath);
        Assert.False(mail.HasNonAscii);
        Assert.Equal(-1, mail.Size);
        Assert.Equal(BodyType.Unspecified, mail.Body);
        Assert.False(mail.SmtpUtf8);
        Assert.Equal(DsnReturn.Unspecified, mail.Ret);
        Assert.Equal(0, mail.EnvIdStart);
        Assert.Equal(0, mail.EnvIdLength);
        Assert.True(mail.GetEnvId(arg).IsEmpty);
        Assert.Equal(0, mail.ErrorLength);
    }

    [Theory]
    [InlineData("from:<a@b>", "a@b")]
    [InlineData("FrOm:<a@b>", "a@b")]
    [InlineData("FROM: <a@b>", "a@b")]
    [InlineData("FROM:   <a@b>", "a@b")]
    [InlineData("FROM:<first.last+tag@sub.example.org>", "first.last+tag@sub.example.org")]
    [InlineData("FROM:<!#$%&'*+-/=?^_`{|}~@example.com>", "!#$%&'*+-/=?^_`{|}~@example.com")]
    [InlineData("FROM:<a@my_host-1.example>", "a@my_host-1.example")]
    [InlineData("FROM:<a@localhost>", "a@localhost")]
    [InlineData("FROM:<\"john doe\"@example.com>", "\"john doe\"@example.com")]
    [InlineData("FROM:<\"a\\\"b\\\\c\"@x>", "\"a\\\"b\\\\c\"@x")]
    [InlineData("FROM:<\"a@b>c\"@x>", "\"a@b>c\"@x")]
    [InlineData("FROM:<\"\"@x>", "\"\"@x")]
    [InlineData("FROM:<\"a\\ b\"@x>", "\"a\\ b\"@x")]
    [InlineData("FROM:<@relay.example:user@c.example>", "user@c.example")]
    [InlineData("FROM:<@a,@b.example,@[192.0.2.1]:user@c>", "user@c")]
    [InlineData("FROM:<a@[192.0.2.1]>", "a@[192.0.2.1]")]
    [InlineData("FROM:<a@[0.0.0.0]>", "a@[0.0.0.0]")]
    [InlineData("FROM:<a@[255.255.255.255]>", "a@[255.255.255.255]")]
    [InlineData("FROM:<a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]")]
    [InlineData("FROM:<a@[ipv6:::1]>", "a@[ipv6:::1]")]
    [InlineData("FROM:<a@[IPv6:2001:db8:0:0:0:0:0:1]>", "a@[IPv6:2001:db8:0:0:0:0:0:1]")]
    [InlineData("FROM:<a@[IPv6:::ffff:192.0.2.1]>", "a@[IPv6:::ffff:192.0.2.1]")]
    [InlineData("FROM:<a@[IPv6:1::]>", "a@[IPv6:1::]")]
    [InlineData("FROM:<a@[IPv6:1:2:3:4:5:6:7::]>", "a@[IPv6:1:2:3:4:5:6:7::]")]
    [InlineData("FROM:<a@[IPv6:1:2:3:4:5:6:192.0.2.1]>", "a@[IPv6:1:2:3:4:5:6:192.0.2.1]")]
    public void MailFromAcceptsValidPaths(string argument, string path)
    {
        Assert.Equal(ArgumentError.None, Parse(argument, out MailFromCommand mail, out byte[] arg));
        Assert.Equal(path, Text(mail.GetReversePath(arg)));
    }

    [Fact]
    public void MailFromSkipsSourceRoute()
    {
        Assert.Equal(ArgumentError.None, Parse("FROM:<@a,@b:user@c>", out MailFromCommand mail, out byte[] arg));
        Assert.Equal(12, mail.PathStart);
        Assert.Equal("user", Text(mail.GetLocalPart(arg)));
        Assert.Equal(17, mail.DomainStart);
        Assert.Equal("c", Text(mail.GetDomain(arg)));
    }

    [Fact]
    public void MailFromPointsDomainAtAddressLiteralBracket()
    {
        Assert.Equal(ArgumentError.None, Parse("FROM:<a@[IPv6:::1]>", out MailFromCommand mail, out byte[] arg));
        Assert.Equal((byte)'[', arg[mail.DomainStart]);
        Assert.Equal("[IPv6:::1]", Text(mail.GetDomain(arg)));
    }

    [Theory]
    [InlineData("FROM:<>")]
    [InlineData("from: <>")]
    [InlineData("FROM:<> SIZE=100")]
    public void MailFromAcceptsNullPath(string argument)
    {
        Assert.Equal(ArgumentError.None, Parse(argument, out MailFromCommand mail, out _));
        Assert.True(mail.IsNullPath);
        Assert.Equal(0, mail.PathLength);
        Assert.Equal(-1, mail.DomainStart);
    }

    [Theory]
    [InlineData("")]
    [InlineData("FROM")]
    [InlineData("FROM:")]
    [InlineData("FROM: ")]
    [InlineData("FRM:<a@b>")]
    [InlineData("FROM :<a@b>")]
    [InlineData("FROM<a@b>")]
    [InlineData("FROM:a@b")]
    [InlineData("FROM:\t<a@b>")]
    [InlineData("<a@b>")]
    [InlineData("TO:<a@b>")]
    [InlineData("FROM:<a@b>x")]
    [InlineData("FROM:<a@b>SIZE=1")]
    [InlineData("FROM:<>x")]
    public void MailFromRejectsWrongFormAsSyntax(string argument)
    {
        Assert.Equal(ArgumentError.Syntax, Parse(argument, out _, out _));
    }

    [Theory]
    [InlineData("FROM:<a@b")]
    [InlineData("FROM:<a>")]
    [InlineData("FROM:<@b>")]
    [InlineData("FROM:<.a@b>")]
    [InlineData("FROM:<a.@b>")]
    [InlineData("FROM:<a..b@c>")]
    [InlineData("FROM:<a@>")]
    [InlineData("FROM:<@>")]
    [InlineData("FROM:<a@b.>")]
    [InlineData("FROM:<a@.b>")]
    [InlineData("FROM:<a@b..c>")]
    [InlineData("FROM:<a b@c>")]
    [InlineData("FROM:< a@b>")]
    [InlineData("FROM:<a@b >")]
    [InlineData("FROM:<a(b)@c>")]
    [InlineData("FROM:<a,b@c>")]
    [InlineData("FROM:<a@b@c>")]
    [InlineData("FROM:<a@b,c>")]
    [InlineData("FROM:<a@b!c>")]
    [InlineData("FROM:<\"a@b>")]
    [InlineData("FROM:<\"a\"b@c>")]
    [InlineData("FROM:<\"a\u0001\"@b>")]
    [InlineData("FROM:<\"a\\\u0001\"@b>")]
    [InlineData("FROM:<\"a\\")]
    [InlineData("FROM:<a@[1.2.3]>")]
    [InlineData("FROM:<a@[1.2.3.4.5]>")]
    [InlineData("FROM:<a@[256.1.1.1]>")]
    [InlineData("FROM:<a@[1.2.3.1000]>")]
    [InlineData("FROM:<a@[0001.2.3.4]>")]
    [InlineData("FROM:<a@[1..3.4]>")]
    [InlineData("FROM:<a@[1.2.3.4]x>")]
    [InlineData("FROM:<a@[1.2.3.4>")]
    [InlineData("FROM:<a@[]>")]
    [InlineData("FROM:<a@[127.1]>")]
    [InlineData("FROM:<a@[0x7f.0.0.1]>")]
    [InlineData("FROM:<a@[IPv6:]>")]
    [InlineData("FROM:<a@[IPv6:::g]>")]
    [InlineData("FROM:<a@[IPv6:1:2:3:4:5:6:7:8:9]>")]
    [InlineData("FROM:<a@[IPv6:fe80::1%eth0]>")]
    [InlineData("FROM:<a@[IPv6:192.0.2.1]>")]
    [InlineData("FROM:<a@[IPv6:1:2:3:4:5:6:7:8::]>")]
    [InlineData("FROM:<a@[IPv6:1::2::3]>")]
    [InlineData("FROM:<a@[IPv6:12345::1]>")]
    [InlineData("FROM:<a@[IPv6:1:2:3:4:5:6:7]>")]
    [InlineData("FROM:<a@[IPv6::1:2]>")]
    [InlineData("FROM:<a@[IPv6:1:]>")]
    [InlineData("FROM:<a@[IPv6:1:2:3:4:5:6:7:192.0.2.1]>")]
    [InlineData("FROM:<a@[IPv6:::1.2.3]>")]
    [InlineData("FROM:<a@[2001:db8::1]>")]
    [InlineData("FROM:<a@[tag:content]>")]
    [InlineData("FROM:<@a user@c>")]
    [InlineData("FROM:<@a,b:user@c>")]
    [InlineData("FROM:<@:user@c>")]
    [InlineData("FROM:<@a:>")]
    [InlineData("FROM:<@a:@b>")]
    [InlineData("FROM:<@a,:user@c>")]
    [InlineData("FROM:<postmaster>")]
    public void MailFromRejectsMalformedPathsAsBadAddress(string argument)
    {
        Assert.Equal(ArgumentError.BadAddress, Parse(argument, out _, out _));
    }

    [Fact]
    public void MailFromAcceptsLocalPartOf64OctetsAndRejects65()
    {
        Assert.Equal(ArgumentError.None, Parse($"FROM:<{new string('l', 64)}@example.com>", out _, out _));
        Assert.Equal(ArgumentError.PathTooLong, Parse($"FROM:<{new string('l', 65)}@example.com>", out _, out _));
        Assert.Equal(ArgumentError.None, Parse($"FROM:<\"{new string('q', 62)}\"@example.com>", out _, out _));
        Assert.Equal(ArgumentError.PathTooLong, Parse($"FROM:<\"{new string('q', 63)}\"@example.com>", out _, out _));
    }

    [Fact]
    public void MailFromAcceptsPathOf256OctetsCountingBracketsAndRejects257()
    {
        // "<" + 1 + "@" + domain + ">" = 256
        string domain = Domain(252);
        Assert.Equal(ArgumentError.None, Parse($"FROM:<a@{domain}>", out MailFromCommand mail, out byte[] arg));
        Assert.Equal(252, mail.GetDomain(arg).Length);
        Assert.Equal(ArgumentError.PathTooLong, Parse($"FROM:<a@{Domain(253)}>", out _, out _));
        Assert.Equal(ArgumentError.PathTooLong, Parse($"FROM:<@relay:a@{domain}>", out _, out _));
    }

    [Fact]
    public void MailFromRejectsDomainOver255Octets()
    {
        // With the brackets and a local part, a 255-octet domain already exceeds the 256-octet path.
        Assert.Equal(ArgumentError.PathTooLong, Parse($"FROM:<a@{Domain(255)}>", out _, out _));
        Assert.Equal(ArgumentError.PathTooLong, Parse($"FROM:<a@{Domain(256)}>", out _, out _));
    }

    [Fact]
    public void MailFromAcceptsUtf8AddressOnlyWithSmtpUtf8()
    {
        Assert.Equal(ArgumentError.None, Parse("FROM:<jöran@bücher.example> SMTPUTF8", out MailFromCommand mail, out byte[] arg));
        Assert.True(mail.HasNonAscii);
        Assert.True(mail.SmtpUtf8);
        Assert.Equal("jöran@bücher.example", Text(mail.GetReversePath(arg)));

        Assert.Equal(ArgumentError.BadAddress, Parse("FROM:<jöran@example.com>", out _, out _));
        Assert.Equal(ArgumentError.BadAddress, Parse("FROM:<a@bücher.example> SIZE=10", out _, out _));
        Assert.Equal(ArgumentError.None, Parse("FROM:<\"jö ran\"@example.com> SMTPUTF8", out mail, out _));
        Assert.True(mail.HasNonAscii);
        Assert.Equal(ArgumentError.None, Parse("FROM:<ascii@example.com> SMTPUTF8", out mail, out _));
        Assert.False(mail.HasNonAscii);
    }

    [Fact]
    public void MailFromRejectsInvalidUtf8EvenWithSmtpUtf8()
    {
        byte[] argument = [.. "FROM:<a"u8, 0xC3, 0x28, .. "@b> SMTPUTF8"u8];
        Assert.Equal(ArgumentError.BadAddress, SmtpCommandParser.TryParseMailFrom(argument, out _));
        argument = [.. "FROM:<a@b"u8, 0xFF, .. "> SMTPUTF8"u8];
        Assert.Equal(ArgumentError.BadAddress, SmtpCommandParser.TryParseMailFrom(argument, out _));
        argument = [.. "FROM:<a"u8, 0xED, 0xA0, 0x80, .. "@b> SMTPUTF8"u8]; // an encoded surrogate
        Assert.Equal(ArgumentError.BadAddress, SmtpCommandParser.TryParseMailFrom(argument, out _));
    }

    [Theory]
    [InlineData("FROM:<a@b> SIZE=12345", 12345L)]
    [InlineData("FROM:<a@b> size=0", 0L)]
    [InlineData("FROM:<a@b> SIZE=9223372036854775807", long.MaxValue)]
    [InlineData("FROM:<a@b> SIZE=99999999999999999999999999", long.MaxValue)]
    [InlineData("FROM:<a@b>    SIZE=7", 7L)]
    public void MailFromReadsSize(string argument, long size)
    {
        Assert.Equal(ArgumentError.None, Parse(argument, out MailFromCommand mail, out _));
        Assert.Equal(size, mail.Size);
    }

    [Theory]
    [InlineData("FROM:<a@b> BODY=7BIT", BodyType.SevenBit)]
    [InlineData("FROM:<a@b> body=7bit", BodyType.SevenBit)]
    [InlineData("FROM:<a@b> BODY=8BITMIME", BodyType.EightBitMime)]
    [InlineData("FROM:<a@b> Body=8bitMime", BodyType.EightBitMime)]
    public void MailFromReadsBody(string argument, BodyType body)
    {
        Assert.Equal(ArgumentError.None, Parse(argument, out MailFromCommand mail, out _));
        Assert.Equal(body, mail.Body);
    }

    [Theory]
    [InlineData("FROM:<a@b> SMTPUTF8")]
    [InlineData("FROM:<a@b> smtputf8")]
    public void MailFromReadsSmtpUtf8(string argument)
    {
        Assert.Equal(ArgumentError.None, Parse(argument, out MailFromCommand mail, out _));
        Assert.True(mail.SmtpUtf8);
    }

    [Fact]
    public void MailFromReadsAllParametersTogether()
    {
        Assert.Equal(ArgumentError.None,
            Parse("FROM:<a@b> SMTPUTF8  BODY=8BITMIME SIZE=42", out MailFromCommand mail, out byte[] arg));
        Assert.Equal(42, mail.Size);
        Assert.Equal(BodyType.EightBitMime, mail.Body);
        Assert.True(mail.SmtpUtf8);
        Assert.Equal("a@b", Text(mail.GetReversePath(arg)));
    }

    [Theory]
    [InlineData("FROM:<a@b> SIZE", "SIZE")]
    [InlineData("FROM:<a@b> SIZE=", "SIZE=")]
    [InlineData("FROM:<a@b> SIZE=12a", "SIZE=12a")]
    [InlineData("FROM:<a@b> SIZE=-1", "SIZE=-1")]
    [InlineData("FROM:<a@b> SIZE=+1", "SIZE=+1")]
    [InlineData("FROM:<a@b> SIZE=1 SIZE=2", "SIZE=2")]
    [InlineData("FROM:<a@b> BODY", "BODY")]
    [InlineData("FROM:<a@b> BODY=", "BODY=")]
    [InlineData("FROM:<a@b> BODY=7BIT=x", "BODY=7BIT=x")]
    [InlineData("FROM:<a@b> BODY=8BITMIME BODY=7BIT", "BODY=7BIT")]
    [InlineData("FROM:<a@b> SMTPUTF8=yes", "SMTPUTF8=yes")]
    [InlineData("FROM:<a@b> SMTPUTF8=", "SMTPUTF8=")]
    [InlineData("FROM:<a@b> SMTPUTF8 SMTPUTF8", "SMTPUTF8")]
    [InlineData("FROM:<a@b> =x", "=x")]
    [InlineData("FROM:<a@b> -X=1", "-X=1")]
    [InlineData("FROM:<a@b> X_Y=1", "X_Y=1")]
    [InlineData("FROM:<a@b> SIZE=1 X\tY", "X\tY")]
    public void MailFromRejectsMalformedOrDuplicatedParameters(string argument, string error)
    {
        Assert.Equal(ArgumentError.BadParameterValue, Parse(argument, out MailFromCommand mail, out byte[] arg));
        Assert.Equal(error, Text(mail.GetError(arg)));
    }

    [Theory]
    [InlineData("FROM:<a@b> AUTH=<>")]
    [InlineData("FROM:<a@b> AUTH=alice+40example.org SIZE=10")]
    public void MailFromTakesTheAuthParameter(string argument)
    {
        byte[] arg = Encoding.ASCII.GetBytes(argument);
        Assert.Equal(ArgumentError.None, SmtpCommandParser.TryParseMailFrom(arg, out MailFromCommand mail));
        Assert.True(mail.Auth);
    }

    [Theory]
    [InlineData("FROM:<a@b> AUTH=")]
    [InlineData("FROM:<a@b> AUTH")]
    [InlineData("FROM:<a@b> AUTH=<> AUTH=<>")]
    [InlineData("FROM:<a@b> AUTH=a+ZZb")]
    public void MailFromRefusesABadAuthParameter(string argument)
    {
        Assert.Equal(ArgumentError.BadParameterValue, SmtpCommandParser.TryParseMailFrom(Encoding.ASCII.GetBytes(argument), out _));
    }

    [Theory]
    [InlineData("FROM:<a@b> X-AUTH=<>", "X-AUTH")]
    [InlineData("FROM:<a@b> SIZE=10 RET=FULL ENVID=x MT-PRIORITY=3", "MT-PRIORITY")]
    [InlineData("FROM:<a@b> NOTIFY=NEVER", "NOTIFY")]
    [InlineData("FROM:<a@b> ORCPT=rfc822;a@b", "ORCPT")]
    [InlineData("FROM:<a@b> XFOO", "XFOO")]
    [InlineData("FROM:<> X-Y-1=2", "X-Y-1")]
    [InlineData("FROM:<a@b> BODY=BINARYMIME", "BODY=BINARYMIME")]
    [InlineData("FROM:<a@b> BODY=8BITMIME MT-PRIORITY=3", "MT-PRIORITY")]
    public void MailFromReportsUnsupportedParameterWithItsRange(string argument, string error)
    {
        Assert.Equal(ArgumentError.UnsupportedParameter, Parse(argument, out MailFromCommand mail, out byte[] arg));
        Assert.Equal(error, Text(mail.GetError(arg)));
        Assert.Equal(argument.IndexOf(error, StringComparison.Ordinal), mail.ErrorStart);
        Assert.Equal(error.Length, mail.ErrorLength);
    }

    [Theory]
    [InlineData("FROM:<a@b> RET=FULL", DsnReturn.Full)]
    [InlineData("FROM:<a@b> RET=HDRS", DsnReturn.Headers)]
    [InlineData("FROM:<a@b> ret=full", DsnReturn.Full)]
    [InlineData("FROM:<> Ret=hDrS", DsnReturn.Headers)]
    public void MailFromReadsRet(string argument, DsnReturn ret)
    {
        Assert.Equal(ArgumentError.None, Parse(argument, out MailFromCommand mail, out _));
        Assert.Equal(ret, mail.Ret);
        Assert.Equal(0, mail.EnvIdLength);
    }

    [Theory]
    [InlineData("FROM:<a@b> ENVID=QQ314159", "QQ314159", "QQ314159")]
    [InlineData("FROM:<a@b> envid=a+2Bb+3Dc", "a+2Bb+3Dc", "a+b=c")]
    [InlineData("FROM:<a@b> ENVID=+20+00+7F", "+20+00+7F", " \0\u007f")]
    [InlineData("FROM:<a@b> ENVID=<id@host>", "<id@host>", "<id@host>")]
    public void MailFromReadsEnvIdAsSent(string argument, string envId, string decoded)
    {
        Assert.Equal(ArgumentError.None, Parse(argument, out MailFromCommand mail, out byte[] arg));
        Assert.Equal(envId, Text(mail.GetEnvId(arg)));
        Assert.Equal(argument.IndexOf('=', StringComparison.Ordinal) + 1, mail.EnvIdStart);
        Assert.Equal(envId.Length, mail.EnvIdLength);
        Assert.Equal(DsnReturn.Unspecified, mail.Ret);

        byte[] value = new byte[envId.Length];
        int written = Xtext.Decode(mail.GetEnvId(arg), value);
        Assert.Equal(decoded, Encoding.Latin1.GetString(value, 0, written));
    }

    [Fact]
    public void MailFromAcceptsEnvIdOf100OctetsAndRejects101()
    {
        string envId = new string('e', 97) + "+2B";
        Assert.Equal(ArgumentError.None, Parse($"FROM:<a@b> ENVID={envId}", out MailFromCommand mail, out byte[] arg));
        Assert.Equal(envId, Text(mail.GetEnvId(arg)));

        Assert.Equal(ArgumentError.BadParameterValue, Parse($"FROM:<a@b> ENVID=x{envId} SIZE=1", out mail, out arg));
        Assert.Equal($"ENVID=x{envId}", Text(mail.GetError(arg)));
        Assert.Equal(11, mail.ErrorStart);
    }

    [Theory]
    [InlineData("FROM:<a@b> RET", "RET")]
    [InlineData("FROM:<a@b> RET=", "RET=")]
    [InlineData("FROM:<a@b> RET=BOTH", "RET=BOTH")]
    [InlineData("FROM:<a@b> RET=FULLX", "RET=FULLX")]
    [InlineData("FROM:<a@b> RET=FULL=", "RET=FULL=")]
    [InlineData("FROM:<a@b> RET=\"FULL\"", "RET=\"FULL\"")]
    [InlineData("FROM:<a@b> RET=FULL SIZE=1 RET=FULL", "RET=FULL")]
    [InlineData("FROM:<a@b> RET=HDRS RET=FULL", "RET=FULL")]
    [InlineData("FROM:<a@b> ENVID", "ENVID")]
    [InlineData("FROM:<a@b> ENVID=", "ENVID=")]
    [InlineData("FROM:<a@b> ENVID=a+2b", "ENVID=a+2b")]
    [InlineData("FROM:<a@b> ENVID=+G1", "ENVID=+G1")]
    [InlineData("FROM:<a@b> ENVID=a+2", "ENVID=a+2")]
    [InlineData("FROM:<a@b> ENVID=a+", "ENVID=a+")]
    [InlineData("FROM:<a@b> ENVID=a=b", "ENVID=a=b")]
    [InlineData("FROM:<a@b> ENVID=a\u007f", "ENVID=a\u007f")]
    [InlineData("FROM:<a@b> ENVID=a\tb", "ENVID=a\tb")]
    [InlineData("FROM:<a@b> SMTPUTF8 ENVID=j\u00f6ran", "ENVID=j\u00f6ran")]
    [InlineData("FROM:<a@b> ENVID=x BODY=7BIT ENVID=x", "ENVID=x")]
    public void MailFromRejectsMalformedOrDuplicatedDsnParameters(string argument, string error)
    {
        Assert.Equal(ArgumentError.BadParameterValue, Parse(argument, out MailFromCommand mail, out byte[] arg));
        Assert.Equal(error, Text(mail.GetError(arg)));
        Assert.Equal(Encoding.UTF8.GetByteCount(argument[..argument.LastIndexOf(error, StringComparison.Ordinal)]),
            mail.ErrorStart);
        Assert.Equal(DsnReturn.Unspecified, mail.Ret);
        Assert.Equal(0, mail.EnvIdLength);
    }

    [Fact]
    public void MailFromReadsDsnParametersWithSizeBodyAndSmtpUtf8InEveryOrder()
    {
        string[] parameters = ["SIZE=42", "BODY=8BITMIME", "SMTPUTF8", "RET=HDRS", "ENVID=id+2B1"];
        int orders = 0;
        foreach (string[] order in Permutations(parameters))
        {
            string argument = "FROM:<jöran@example.org> " + string.Join(orders % 2 == 0 ? " " : "  ", order);
            Assert.Equal(ArgumentError.None, Parse(argument, out MailFromCommand mail, out byte[] arg));
            Assert.Equal(42, mail.Size);
            Assert.Equal(BodyType.EightBitMime, mail.Body);
            Assert.True(mail.SmtpUtf8);
            Assert.Equal(DsnReturn.Headers, mail.Ret);
            Assert.Equal("id+2B1", Text(mail.GetEnvId(arg)));
            Assert.Equal("jöran@example.org", Text(mail.GetReversePath(arg)));
            orders++;
        }

        Assert.Equal(120, orders);
    }

    /// <summary>Every ENVID value made of up to three edge octets: accepted exactly when the independent statement
    /// of xtext (<see cref="XtextTests.Oracle"/>) takes it and it is not empty, and then kept as sent.</summary>
    [Fact]
    public void MailFromAcceptsEnvIdExactlyWhenItIsNonEmptyXtext()
    {
        foreach (string value in XtextTests.AllTexts("!+=2BbG~\u007f\u00e9\t", 3))
        {
            ArgumentError error = Parse($"FROM:<a@b> ENVID={value} RET=FULL", out MailFromCommand mail, out byte[] arg);
            if (XtextTests.Oracle(value) is { Length: > 0 })
            {
                Assert.Equal(ArgumentError.None, error);
                Assert.Equal(value, Text(mail.GetEnvId(arg)));
                Assert.Equal(DsnReturn.Full, mail.Ret);
            }
            else
            {
                Assert.Equal(ArgumentError.BadParameterValue, error);
                Assert.Equal(11, mail.ErrorStart);
            }
        }
    }

    internal static IEnumerable<string[]> Permutations(string[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }

        for (int i = 0; i < items.Length; i++)
        {
            string[] rest = [.. items[..i], .. items[(i + 1)..]];
            foreach (string[] tail in Permutations(rest))
                yield return [items[i], .. tail];
        }
    }
}
