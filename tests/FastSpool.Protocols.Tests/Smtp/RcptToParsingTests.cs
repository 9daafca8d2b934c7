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
    [InlineData("TO:<a@b> NOTIFY=NEVER", "NOTIFY")]
    [InlineData("TO:<a@b> ORCPT=rfc822;a@b", "ORCPT")]
    [InlineData("TO:<postmaster>   XFOO", "XFOO")]
    public void RcptToReportsAnyParameterAsUnsupported(string argument, string keyword)
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
}
