using System.Text;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Protocols.Tests.Smtp;

public sealed class RcptToParsingTests
{
    private static string Text(ReadOnlySpan<byte> s) => Encoding.UTF8.GetString(s);

    private static ArgumentError Parse(string argument, out RcptToCommand command, out byte[] bytes,
        bool allowUtf8 = false)
    {
        bytes = Encoding.UTF8.GetBytes(argument);
        return SmtpCommandParser.TryParseRcptTo(bytes, allowUtf8, out command);
    }

    [Fact]
    public void RcptToReadsMailboxLocalPartAndDomain()
    {
        Assert.Equal(ArgumentError.None, Parse("TO:<user@example.com>", out RcptToCommand rcpt, out byte[] arg));
        Assert.Equal(4, rcpt.PathStart);
        Assert.Equal(16, rcpt.PathLength);
        Assert.Equal(9, rcpt.DomainStart);
        Assert.Equal("user@example.com", Text(rcpt.GetForwardPath(arg)));
        Assert.Equal("user", Text(rcpt.GetLocalPart(arg)));
        Assert.Equal("example.com", Text(rcpt.GetDomain(arg)));
        Assert.False(rcpt.IsBarePostmaster);
        Assert.False(rcpt.HasNonAscii);
        Assert.Equal(DsnNotify.None, rcpt.Notify);
        Assert.Equal(0, rcpt.OrcptStart);
        Assert.Equal(0, rcpt.OrcptLength);
        Assert.True(rcpt.GetOriginalRecipient(arg).IsEmpty);
    }

    [Theory]
    [InlineData("to:<a@b>", "a@b")]
    [InlineData("To: <a@b>", "a@b")]
    [InlineData("TO:    <a@b>", "a@b")]
    [InlineData("TO:<\"john q. public\"@example.com>", "\"john q. public\"@example.com")]
    [InlineData("TO:<@hop1,@hop2:user@example.com>", "user@example.com")]
    [InlineData("TO:<a@[192.0.2.1]>", "a@[192.0.2.1]")]
    [InlineData("TO:<a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]")]
    [InlineData("TO:<postmaster@example.com>", "postmaster@example.com")]
    public void RcptToAcceptsValidPaths(string argument, string path)
    {
        Assert.Equal(ArgumentError.None, Parse(argument, out RcptToCommand rcpt, out byte[] arg));
        Assert.Equal(path, Text(rcpt.GetForwardPath(arg)));
        Assert.False(rcpt.IsBarePostmaster);
    }

    [Theory]
    [InlineData("TO:<postmaster>")]
    [InlineData("TO:<Postmaster>")]
    [InlineData("to: <POSTMASTER>")]
    [InlineData("TO:<@relay:postmaster>")]
    public void RcptToAcceptsBarePostmaster(string argument)
    {
        Assert.Equal(ArgumentError.None, Parse(argument, out RcptToCommand rcpt, out byte[] arg));
        Assert.True(rcpt.IsBarePostmaster);
        Assert.Equal(-1, rcpt.DomainStart);
        Assert.Equal("postmaster", Text(rcpt.GetForwardPath(arg)), ignoreCase: true);
        Assert.True(rcpt.GetDomain(arg).IsEmpty);
    }

    [Theory]
    [InlineData("")]
    [InlineData("TO")]
    [InlineData("TO:")]
    [InlineData("TO :<a@b>")]
    [InlineData("TO:a@b")]
    [InlineData("FROM:<a@b>")]
    [InlineData("TO:<a@b>x")]
    [InlineData("TO:<a@b>NOTIFY=NEVER")]
    public void RcptToRejectsWrongFormAsSyntax(string argument)
    {
        Assert.Equal(ArgumentError.Syntax, Parse(argument, out _, out _));
    }

    [Theory]
    [InlineData("TO:<>")]
    [InlineData("TO:<user>")]
    [InlineData("TO:<postmasters>")]
    [InlineData("TO:<\"postmaster\">")]
    [InlineData("TO:<post.master>")]
    [InlineData("TO:<a@b")]
    [InlineData("TO:<a..b@c>")]
    [InlineData("TO:<a@b.>")]
    [InlineData("TO:<a@[300.1.1.1]>")]
    [InlineData("TO:<a@[IPv6:zz::1]>")]
    [InlineData("TO:<@a:>")]
    public void RcptToRejectsMalformedPathsAsBadAddress(string argument)
    {
        Assert.Equal(ArgumentError.BadAddress, Parse(argument, out _, out _));
    }

    [Fact]
    public void RcptToEnforcesLocalPartAndPathLimits()
    {
        Assert.Equal(ArgumentError.None, Parse($"TO:<{new string('l', 64)}@example.com>", out _, out _));
        Assert.Equal(ArgumentError.PathTooLong, Parse($"TO:<{new string('l', 65)}@example.com>", out _, out _));
        Assert.Equal(ArgumentError.None, Parse($"TO:<a@{MailFromParsingTests.Domain(252)}>", out _, out _));
        Assert.Equal(ArgumentError.PathTooLong, Parse($"TO:<a@{MailFromParsingTests.Domain(253)}>", out _, out _));
        Assert.Equal(ArgumentError.PathTooLong, Parse($"TO:<a@{MailFromParsingTests.Domain(256)}>", out _, out _));
    }

    [Fact]
    public void RcptToAcceptsUtf8OnlyWhenAllowed()
    {
        Assert.Equal(ArgumentError.None, Parse("TO:<δοκιμή@παράδειγμα.δοκιμή>", out RcptToCommand rcpt, out byte[] arg, allowUtf8: true));
        Assert.True(rcpt.HasNonAscii);
        Assert.Equal("παράδειγμα.δοκιμή", Text(rcpt.GetDomain(arg)));
        Assert.Equal(ArgumentError.BadAddress, Parse("TO:<δοκιμή@example.com>", out _, out _, allowUtf8: false));

        byte[] invalid = [.. "TO:<a"u8, 0xC0, 0xAF, .. "@b>"u8]; // overlong encoding of '/'
        Assert.Equal(ArgumentError.BadAddress, SmtpCommandParser.TryParseRcptTo(invalid, allowUtf8: true, out _));
    }

    [Theory]
    [InlineData("TO:<a@b> SIZE=10", "SIZE")]
    [InlineData("TO:<a@b> RET=FULL", "RET")]
    [InlineData("TO:<a@b> ENVID=x", "ENVID")]
    [InlineData("TO:<a@b> NOTIFY=NEVER RRVS=2014-04-03T23:01:00Z", "RRVS")]
    [InlineData("TO:<a@b> ORCPT=rfc822;a@b XFOO NOTIFY=NEVER", "XFOO")]
    [InlineData("TO:<postmaster>   XFOO", "XFOO")]
    public void RcptToReportsParametersOtherThanNotifyAndOrcptAsUnsupported(string argument, string keyword)
    {
        Assert.Equal(ArgumentError.UnsupportedParameter, Parse(argument, out RcptToCommand rcpt, out byte[] arg));
        Assert.Equal(keyword, Text(rcpt.GetError(arg)));
        Assert.Equal(argument.IndexOf(keyword, StringComparison.Ordinal), rcpt.ErrorStart);
    }

    [Fact]
    public void RcptToReportsMalformedParameterAsBadValue()
    {
        Assert.Equal(ArgumentError.BadParameterValue, Parse("TO:<a@b> =x", out RcptToCommand rcpt, out byte[] arg));
        Assert.Equal("=x", Text(rcpt.GetError(arg)));
    }

    [Theory]
    [InlineData("TO:<a@b> NOTIFY=NEVER", DsnNotify.Never)]
    [InlineData("TO:<a@b> NOTIFY=SUCCESS", DsnNotify.Success)]
    [InlineData("TO:<a@b> NOTIFY=FAILURE", DsnNotify.Failure)]
    [InlineData("TO:<a@b> NOTIFY=DELAY", DsnNotify.Delay)]
    [InlineData("TO:<a@b> NOTIFY=SUCCESS,FAILURE", DsnNotify.Success | DsnNotify.Failure)]
    [InlineData("TO:<a@b> NOTIFY=FAILURE,SUCCESS", DsnNotify.Success | DsnNotify.Failure)]
    [InlineData("TO:<a@b> NOTIFY=SUCCESS,DELAY", DsnNotify.Success | DsnNotify.Delay)]
    [InlineData("TO:<a@b> NOTIFY=FAILURE,DELAY", DsnNotify.Failure | DsnNotify.Delay)]
    [InlineData("TO:<a@b> NOTIFY=SUCCESS,FAILURE,DELAY", DsnNotify.Success | DsnNotify.Failure | DsnNotify.Delay)]
    [InlineData("TO:<a@b> NOTIFY=DELAY,FAILURE,SUCCESS", DsnNotify.Success | DsnNotify.Failure | DsnNotify.Delay)]
    [InlineData("TO:<a@b> notify=never", DsnNotify.Never)]
    [InlineData("TO:<a@b> Notify=Success,fAILURE", DsnNotify.Success | DsnNotify.Failure)]
    [InlineData("TO:<Postmaster> NOTIFY=delay", DsnNotify.Delay)]
    public void RcptToReadsNotify(string argument, DsnNotify notify)
    {
        Assert.Equal(ArgumentError.None, Parse(argument, out RcptToCommand rcpt, out byte[] arg));
        Assert.Equal(notify, rcpt.Notify);
        Assert.Equal(0, rcpt.OrcptLength);
        Assert.True(rcpt.GetOriginalRecipient(arg).IsEmpty);
    }

    /// <summary>Every list of one to four elements drawn from the four keywords, an empty element and an unknown
    /// word, in alternating case: valid exactly when it is NEVER alone or distinct SUCCESS/FAILURE/DELAY.</summary>
    [Fact]
    public void RcptToAcceptsNotifyExactlyWhenNeverStandsAloneOrTheListHasNoRepeats()
    {
        (string Word, DsnNotify Flag)[] elements =
            [("NEVER", DsnNotify.Never), ("SUCCESS", DsnNotify.Success), ("FAILURE", DsnNotify.Failure),
             ("DELAY", DsnNotify.Delay), ("", DsnNotify.None), ("NONE", DsnNotify.None)];
        IEnumerable<(string Word, DsnNotify Flag)[]> lists = [[]];
        int valid = 0;
        for (int n = 1; n <= 4; n++)
        {
            lists = lists.SelectMany(list => elements.Select(e => (((string, DsnNotify)[])[.. list, e]))).ToList();
            foreach ((string Word, DsnNotify Flag)[] list in lists)
            {
                string value = string.Join(',', list.Select((e, i) => i % 2 == 0 ? e.Word : e.Word.ToLowerInvariant()));
                bool known = list.All(e => e.Flag != DsnNotify.None);
                bool distinct = list.Select(e => e.Flag).Distinct().Count() == list.Length;
                bool never = list.Any(e => e.Flag == DsnNotify.Never);
                bool expected = known && (never ? list.Length == 1 : distinct);

                ArgumentError error = Parse($"TO:<a@b> NOTIFY={value} ORCPT=rfc822;a@b", out RcptToCommand rcpt, out byte[] arg);
                if (expected)
                {
                    Assert.Equal(ArgumentError.None, error);
                    Assert.Equal(list.Aggregate(DsnNotify.None, (all, e) => all | e.Flag), rcpt.Notify);
                    Assert.Equal("rfc822;a@b", Text(rcpt.GetOriginalRecipient(arg)));
                    valid++;
                }
                else
                {
                    Assert.Equal(ArgumentError.BadParameterValue, error);
                    Assert.Equal($"NOTIFY={value}", Text(rcpt.GetError(arg)));
                }
            }
        }

        Assert.Equal(1 + 3 + 6 + 6, valid);
    }

    [Theory]
    [InlineData("TO:<a@b> ORCPT=rfc822;a@b", "rfc822;a@b", "a@b")]
    [InlineData("TO:<a@b> orcpt=RFC822;a+2Bb@example.com", "RFC822;a+2Bb@example.com", "a+b@example.com")]
    [InlineData("TO:<a@b> ORCPT=rfc822;\"a+20b+3Dc\"@example.com", "rfc822;\"a+20b+3Dc\"@example.com", "\"a b=c\"@example.com")]
    [InlineData("TO:<a@b> ORCPT=rfc822;a;b", "rfc822;a;b", "a;b")]
    [InlineData("TO:<a@b> ORCPT=utf-8;j\\x{F6}ran@example.com", "utf-8;j\\x{F6}ran@example.com", "j\\x{F6}ran@example.com")]
    [InlineData("TO:<a@b> ORCPT=x-local+1;user", "x-local+1;user", "user")]
    public void RcptToReadsOriginalRecipientAsSent(string argument, string orcpt, string address)
    {
        Assert.Equal(ArgumentError.None, Parse(argument, out RcptToCommand rcpt, out byte[] arg));
        Assert.Equal(orcpt, Text(rcpt.GetOriginalRecipient(arg)));
        Assert.Equal(argument.IndexOf('=', StringComparison.Ordinal) + 1, rcpt.OrcptStart);
        Assert.Equal(orcpt.Length, rcpt.OrcptLength);
        Assert.Equal(DsnNotify.None, rcpt.Notify);

        ReadOnlySpan<byte> xtext = rcpt.GetOriginalRecipient(arg);
        xtext = xtext[(xtext.IndexOf((byte)';') + 1)..];
        byte[] decoded = new byte[xtext.Length];
        int written = Xtext.Decode(xtext, decoded);
        Assert.Equal(address, Text(decoded.AsSpan(0, written)));
    }

    [Theory]
    [InlineData("TO:<a@b> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a@b")]
    [InlineData("TO:<a@b> ORCPT=rfc822;a@b NOTIFY=SUCCESS,DELAY")]
    [InlineData("TO:<a@b>   ORCPT=rfc822;a@b    NOTIFY=delay,success")]
    public void RcptToReadsNotifyAndOrcptInEitherOrder(string argument)
    {
        Assert.Equal(ArgumentError.None, Parse(argument, out RcptToCommand rcpt, out byte[] arg));
        Assert.Equal(DsnNotify.Success | DsnNotify.Delay, rcpt.Notify);
        Assert.Equal("rfc822;a@b", Text(rcpt.GetOriginalRecipient(arg)));
        Assert.Equal("a@b", Text(rcpt.GetForwardPath(arg)));
    }

    [Fact]
    public void RcptToReadsDsnParametersOfAUtf8Recipient()
    {
        const string argument = "TO:<δοκιμή@παράδειγμα.δοκιμή> NOTIFY=FAILURE ORCPT=utf-8;\\x{3B4}@example.com";
        Assert.Equal(ArgumentError.None, Parse(argument, out RcptToCommand rcpt, out byte[] arg, allowUtf8: true));
        Assert.True(rcpt.HasNonAscii);
        Assert.Equal(DsnNotify.Failure, rcpt.Notify);
        Assert.Equal("utf-8;\\x{3B4}@example.com", Text(rcpt.GetOriginalRecipient(arg)));
        Assert.Equal(Encoding.UTF8.GetByteCount(argument) - rcpt.OrcptLength, rcpt.OrcptStart);
    }

    /// <summary>RFC 6533's utf-8-addr-unitext: raw UTF-8 in a utf-8 ORCPT, when the transaction uses SMTPUTF8 (and
    /// only then); the octets must be well-formed UTF-8.</summary>
    [Fact]
    public void RcptToTakesARawUtf8OriginalRecipientOnlyInAnSmtpUtf8Transaction()
    {
        const string argument = "TO:<a@b> ORCPT=utf-8;jöran@exämple.org";
        Assert.Equal(ArgumentError.None, Parse(argument, out RcptToCommand rcpt, out byte[] arg, allowUtf8: true));
        Assert.Equal("utf-8;jöran@exämple.org", Text(rcpt.GetOriginalRecipient(arg)));
        Assert.Equal(ArgumentError.BadParameterValue, Parse(argument, out _, out _, allowUtf8: false));

        byte[] broken = [.. "TO:<a@b> ORCPT=utf-8;j"u8, 0xC3, (byte)'r', .. "an@example.org"u8];
        Assert.Equal(ArgumentError.BadParameterValue, SmtpCommandParser.TryParseRcptTo(broken, allowUtf8: true, out _));
    }

    [Theory]
    [InlineData(@"utf-8;j\x{F6}ran@example.org", "utf-8;jöran@example.org")]
    [InlineData(@"utf-8;\x{1F600}\x{2b}\x{5C}@x", "utf-8;😀+\\@x")]
    [InlineData(@"utf-8;a\x{}b\x{110000}c\x{D800}d\xe9\x{F6", @"utf-8;a\x{}b\x{110000}c\x{D800}d\xe9\x{F6")]
    [InlineData("utf-8;jöran@example.org", "utf-8;jöran@example.org")]
    public void Utf8AddrXtextEscapesAreDecodedInPlaceAndWhatIsNoEscapeStays(string text, string decoded)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        int length = Utf8AddrXtext.DecodeInPlace(bytes);
        Assert.Equal(decoded, Encoding.UTF8.GetString(bytes, 0, length));
    }

    [Fact]
    public void Utf8AddrXtextEncodesAllButQchar() =>
        Assert.Equal(@"j\x{F6}r\x{20}a\x{2B}n\x{3D}\x{5C}\x{1F600}@x!~", Utf8AddrXtext.Encode("jör a+n=\\😀@x!~"));

    [Fact]
    public void RcptToAcceptsOrcptOf500OctetsAndRejects501()
    {
        string orcpt = "rfc822;" + new string('o', 490) + "+2B";
        Assert.Equal(500, orcpt.Length);
        Assert.Equal(ArgumentError.None, Parse($"TO:<a@b> NOTIFY=NEVER ORCPT={orcpt}", out RcptToCommand rcpt, out byte[] arg));
        Assert.Equal(orcpt, Text(rcpt.GetOriginalRecipient(arg)));

        Assert.Equal(ArgumentError.BadParameterValue, Parse($"TO:<a@b> ORCPT={orcpt}o NOTIFY=NEVER", out rcpt, out arg));
        Assert.Equal($"ORCPT={orcpt}o", Text(rcpt.GetError(arg)));
        Assert.Equal(9, rcpt.ErrorStart);
    }

    [Theory]
    [InlineData("TO:<a@b> NOTIFY", "NOTIFY")]
    [InlineData("TO:<a@b> NOTIFY=", "NOTIFY=")]
    [InlineData("TO:<a@b> NOTIFY=NEVER,SUCCESS", "NOTIFY=NEVER,SUCCESS")]
    [InlineData("TO:<a@b> NOTIFY=FAILURE,NEVER", "NOTIFY=FAILURE,NEVER")]
    [InlineData("TO:<a@b> NOTIFY=NEVER,NEVER", "NOTIFY=NEVER,NEVER")]
    [InlineData("TO:<a@b> NOTIFY=SUCCESS,SUCCESS", "NOTIFY=SUCCESS,SUCCESS")]
    [InlineData("TO:<a@b> NOTIFY=success,FAILURE,Success", "NOTIFY=success,FAILURE,Success")]
    [InlineData("TO:<a@b> NOTIFY=SUCCESS,", "NOTIFY=SUCCESS,")]
    [InlineData("TO:<a@b> NOTIFY=,SUCCESS", "NOTIFY=,SUCCESS")]
    [InlineData("TO:<a@b> NOTIFY=SUCCESS,,DELAY", "NOTIFY=SUCCESS,,DELAY")]
    [InlineData("TO:<a@b> NOTIFY=ALWAYS", "NOTIFY=ALWAYS")]
    [InlineData("TO:<a@b> NOTIFY=SUCCES", "NOTIFY=SUCCES")]
    [InlineData("TO:<a@b> NOTIFY=DELAYED", "NOTIFY=DELAYED")]
    [InlineData("TO:<a@b> NOTIFY=NEVER=1", "NOTIFY=NEVER=1")]
    [InlineData("TO:<a@b> NOTIFY=SUCCESS NOTIFY=FAILURE", "NOTIFY=FAILURE")]
    [InlineData("TO:<a@b> NOTIFY=NEVER ORCPT=rfc822;a@b NOTIFY=NEVER", "NOTIFY=NEVER")]
    [InlineData("TO:<a@b> ORCPT", "ORCPT")]
    [InlineData("TO:<a@b> ORCPT=", "ORCPT=")]
    [InlineData("TO:<a@b> ORCPT=rfc822", "ORCPT=rfc822")]
    [InlineData("TO:<a@b> ORCPT=rfc822a@b", "ORCPT=rfc822a@b")]
    [InlineData("TO:<a@b> ORCPT=;a@b", "ORCPT=;a@b")]
    [InlineData("TO:<a@b> ORCPT=rfc822;", "ORCPT=rfc822;")]
    [InlineData("TO:<a@b> ORCPT=rfc822;a+2bb@c", "ORCPT=rfc822;a+2bb@c")]
    [InlineData("TO:<a@b> ORCPT=rfc822;a+G1@c", "ORCPT=rfc822;a+G1@c")]
    [InlineData("TO:<a@b> ORCPT=rfc822;a+2", "ORCPT=rfc822;a+2")]
    [InlineData("TO:<a@b> ORCPT=rfc822;a=b@c", "ORCPT=rfc822;a=b@c")]
    [InlineData("TO:<a@b> ORCPT=rfc=822;a@b", "ORCPT=rfc=822;a@b")]
    [InlineData("TO:<a@b> ORCPT=rfc.822;a@b", "ORCPT=rfc.822;a@b")]
    [InlineData("TO:<a@b> ORCPT=rfc(822);a@b", "ORCPT=rfc(822);a@b")]
    [InlineData("TO:<a@b> ORCPT=rfc822;a\tb", "ORCPT=rfc822;a\tb")]
    [InlineData("TO:<a@b> ORCPT=rfc822;jöran@example.com", "ORCPT=rfc822;jöran@example.com")]
    [InlineData("TO:<a@b> ORCPT=utf-8;jö+ran@example.com", "ORCPT=utf-8;jö+ran@example.com")]
    [InlineData("TO:<a@b> ORCPT=utf-8;jö=ran@example.com", "ORCPT=utf-8;jö=ran@example.com")]
    [InlineData("TO:<a@b> ORCPT=rfc822;a@b NOTIFY=NEVER ORCPT=rfc822;a@b", "ORCPT=rfc822;a@b")]
    [InlineData("TO:<a@b> ORCPT=rfc822;a@b ORCPT=rfc822;c@d", "ORCPT=rfc822;c@d")]
    public void RcptToRejectsMalformedOrDuplicatedDsnParameters(string argument, string error)
    {
        Assert.Equal(ArgumentError.BadParameterValue, Parse(argument, out RcptToCommand rcpt, out byte[] arg, allowUtf8: true));
        Assert.Equal(error, Text(rcpt.GetError(arg)));
        Assert.Equal(Encoding.UTF8.GetByteCount(argument[..argument.LastIndexOf(error, StringComparison.Ordinal)]),
            rcpt.ErrorStart);
        Assert.Equal(DsnNotify.None, rcpt.Notify);
        Assert.Equal(0, rcpt.OrcptLength);
    }

    /// <summary>Every ORCPT address of up to three edge octets: accepted exactly when the independent statement of
    /// xtext (<see cref="XtextTests.Oracle"/>) takes it and it is not empty.</summary>
    [Fact]
    public void RcptToAcceptsOrcptExactlyWhenItsAddressIsNonEmptyXtext()
    {
        foreach (string address in XtextTests.AllTexts("!+=;2BbG~\u007f\u00e9\t", 3))
        {
            ArgumentError error = Parse($"TO:<a@b> ORCPT=rfc822;{address} NOTIFY=NEVER", out RcptToCommand rcpt, out byte[] arg);
            if (XtextTests.Oracle(address) is { Length: > 0 })
            {
                Assert.Equal(ArgumentError.None, error);
                Assert.Equal($"rfc822;{address}", Text(rcpt.GetOriginalRecipient(arg)));
                Assert.Equal(DsnNotify.Never, rcpt.Notify);
            }
            else
            {
                Assert.Equal(ArgumentError.BadParameterValue, error);
                Assert.Equal(9, rcpt.ErrorStart);
            }
        }
    }
}
