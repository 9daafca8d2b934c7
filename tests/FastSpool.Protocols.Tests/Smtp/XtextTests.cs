using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Protocols.Tests.Smtp;

public sealed class XtextTests
{
    // Octets that sit on every edge of the grammar: controls, SP, the first and last xchar, "+", "=", digits and
    // letters on both sides of the upper-case hex range, DEL and non-ASCII (as Latin-1 characters).
    private const string Edges = "\0\u001f !+=09AFGaf~\u007f\u0080\u00ff";

    private static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);

    private static string Text(ReadOnlySpan<byte> s) => Encoding.Latin1.GetString(s);

    /// <summary>Independent statement of RFC 3461 §4: xchar is "!" to "~" except "+" and "=", hexchar is "+" and
    /// two upper-case hex digits. Returns the decoded text, or null when the input is not xtext.</summary>
    internal static string? Oracle(string xtext)
    {
        if (!Regex.IsMatch(xtext, @"\A(?:[\x21-\x2A\x2C-\x3C\x3E-\x7E]|\+[0-9A-F]{2})*\z", RegexOptions.CultureInvariant))
            return null;
        return Regex.Replace(xtext, @"\+([0-9A-F]{2})",
            m => ((char)int.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToString());
    }

    /// <summary>Every text of up to <paramref name="maxLength"/> characters of <paramref name="alphabet"/>,
    /// the empty one first.</summary>
    internal static IEnumerable<string> AllTexts(string alphabet, int maxLength)
    {
        List<string> texts = [""];
        yield return "";
        for (int n = 1; n <= maxLength; n++)
        {
            texts = texts.SelectMany(text => alphabet.Select(c => text + c)).ToList();
            foreach (string text in texts)
                yield return text;
        }
    }

    [Fact]
    public void XtextAgreesWithTheGrammarOnEveryInputOfUpToFourEdgeOctets()
    {
        byte[] decoded = new byte[8];
        int count = 0;
        foreach (byte[] input in AllTexts(Edges, 4).Select(Bytes))
        {
            string? expected = Oracle(Text(input));
            Assert.True(expected is not null == Xtext.IsValid(input), Text(input));
            int written = Xtext.Decode(input, decoded);
            if (expected is null)
                Assert.Equal(-1, written);
            else
                Assert.Equal(expected, Text(decoded.AsSpan(0, written)));
            count++;
        }

        Assert.Equal(88741, count); // 1 + 17 + 17^2 + 17^3 + 17^4
    }

    [Fact]
    public void XtextDecodesEveryPrefixOfAValidXtextUnlessItEndsInsideAHexchar()
    {
        const string xtext = "a+2Bb+3D+20~+7F!+00";
        byte[] input = Bytes(xtext);
        byte[] decoded = new byte[input.Length];
        for (int cut = 0; cut <= input.Length; cut++)
        {
            string? expected = Oracle(xtext[..cut]);
            int plus = xtext.LastIndexOf('+', Math.Max(0, cut - 1));
            bool insideHexchar = cut > 0 && plus >= 0 && cut - plus is 1 or 2;
            Assert.Equal(insideHexchar, expected is null);
            Assert.Equal(!insideHexchar, Xtext.IsValid(input.AsSpan(0, cut)));
            int written = Xtext.Decode(input.AsSpan(0, cut), decoded);
            Assert.Equal(expected is null ? -1 : expected.Length, written);
            if (expected is not null)
                Assert.Equal(expected, Text(decoded.AsSpan(0, written)));
        }

        Assert.Equal("a+b= ~\u007f!\0", Text(decoded.AsSpan(0, Xtext.Decode(input, decoded))));
    }

    [Theory]
    [InlineData("")]
    [InlineData("QQ314159")]
    [InlineData("a+2Bb+3Dc")]
    [InlineData("+20+00+7F+FF")]
    [InlineData("!\"#$%&'()*,-./:;<>?@[\\]^_`{|}~")]
    [InlineData("j\\x{F6}ran@example.com")]
    public void XtextAcceptsValidForms(string xtext)
    {
        Assert.True(Xtext.IsValid(Bytes(xtext)));
        Assert.NotEqual(-1, Xtext.Decode(Bytes(xtext), new byte[xtext.Length]));
    }

    [Theory]
    [InlineData("+")]
    [InlineData("+2")]
    [InlineData("a+2")]
    [InlineData("+2b")]
    [InlineData("+b2")]
    [InlineData("+G1")]
    [InlineData("+1G")]
    [InlineData("++2B")]
    [InlineData("+-1")]
    [InlineData("+ 20")]
    [InlineData("a=b")]
    [InlineData("=")]
    [InlineData("a b")]
    [InlineData("a\tb")]
    [InlineData("\0")]
    [InlineData("\u007f")]
    [InlineData("\u0080")]
    [InlineData("\u00e9")]
    public void XtextRefusesInvalidForms(string xtext)
    {
        byte[] input = Bytes(xtext);
        Assert.False(Xtext.IsValid(input));
        Assert.Equal(-1, Xtext.Decode(input, new byte[input.Length]));
    }

    [Fact]
    public void XtextLeavesUtf8AddrXtextEscapesUndecoded()
    {
        byte[] input = Bytes("j\\x{F6}ran+2B1@example.com");
        byte[] decoded = new byte[input.Length];
        int written = Xtext.Decode(input, decoded);
        Assert.Equal("j\\x{F6}ran+1@example.com", Text(decoded.AsSpan(0, written)));
    }

    [Theory]
    [InlineData((byte)'+', "+2B")]
    [InlineData((byte)'=', "+3D")]
    [InlineData((byte)' ', "+20")]
    [InlineData((byte)0x00, "+00")]
    [InlineData((byte)'\t', "+09")]
    [InlineData((byte)'\r', "+0D")]
    [InlineData((byte)'\n', "+0A")]
    [InlineData((byte)0x1F, "+1F")]
    [InlineData((byte)0x7F, "+7F")]
    [InlineData((byte)0x80, "+80")]
    [InlineData((byte)0xAB, "+AB")]
    [InlineData((byte)0xFF, "+FF")]
    [InlineData((byte)'!', "!")]
    [InlineData((byte)'~', "~")]
    [InlineData((byte)'a', "a")]
    public void XtextEncodesOctetsThatAreNotXcharsAsUpperCaseHexchars(byte octet, string xtext)
    {
        byte[] destination = new byte[3];
        Assert.Equal(xtext.Length, Xtext.GetEncodedLength([octet]));
        int written = Xtext.Encode([octet], destination);
        Assert.Equal(xtext, Text(destination.AsSpan(0, written)));
    }

    [Fact]
    public void XtextEncodesAnAddressWithPlusAndEquals()
    {
        byte[] value = Bytes("user+tag=x@example.org");
        byte[] destination = new byte[Xtext.GetEncodedLength(value)];
        Assert.Equal(destination.Length, Xtext.Encode(value, destination));
        Assert.Equal("user+2Btag+3Dx@example.org", Text(destination));
    }

    [Fact]
    public void XtextRoundTripsEveryOctetAloneAndAllTogether()
    {
        byte[] all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        foreach (byte[] value in all.Select(b => (byte[])[b]).Append(all).Append([]))
        {
            byte[] encoded = new byte[Xtext.GetEncodedLength(value)];
            Assert.Equal(encoded.Length, Xtext.Encode(value, encoded));
            Assert.True(Xtext.IsValid(encoded));
            Assert.Equal(Text(value), Oracle(Text(encoded)));
            byte[] decoded = new byte[value.Length];
            Assert.Equal(value.Length, Xtext.Decode(encoded, decoded));
            Assert.Equal(value, decoded);
        }
    }

    [Fact]
    public void XtextRoundTripsEveryInputOfUpToThreeEdgeOctets()
    {
        byte[] encoded = new byte[9];
        byte[] decoded = new byte[3];
        foreach (byte[] value in AllTexts(Edges, 3).Select(Bytes))
        {
            int length = Xtext.Encode(value, encoded);
            Assert.Equal(Xtext.GetEncodedLength(value), length);
            Assert.Equal(Text(value), Oracle(Text(encoded.AsSpan(0, length))));
            Assert.Equal(value.Length, Xtext.Decode(encoded.AsSpan(0, length), decoded));
            Assert.Equal(value, decoded.AsSpan(0, value.Length).ToArray());
        }
    }

    [Fact]
    public void XtextEncodeRefusesEveryDestinationShorterThanTheEncodedLength()
    {
        byte[] value = Bytes("a+b c=");
        int needed = Xtext.GetEncodedLength(value);
        Assert.Equal(12, needed);
        for (int size = 0; size < needed; size++)
        {
            byte[] destination = new byte[size];
            Assert.Throws<ArgumentException>(() => Xtext.Encode(value, destination));
        }

        byte[] exact = new byte[needed];
        Assert.Equal(needed, Xtext.Encode(value, exact));
        Assert.Equal("a+2Bb+20c+3D", Text(exact));
    }

    [Fact]
    public void XtextDecodeRefusesEveryDestinationShorterThanTheDecodedLength()
    {
        byte[] xtext = Bytes("a+2Bb+20c+3D");
        for (int size = 0; size < 6; size++)
        {
            byte[] destination = new byte[size];
            Assert.Throws<ArgumentException>(() => Xtext.Decode(xtext, destination));
        }

        byte[] exact = new byte[6];
        Assert.Equal(6, Xtext.Decode(xtext, exact));
        Assert.Equal("a+b c=", Text(exact));
    }
}
