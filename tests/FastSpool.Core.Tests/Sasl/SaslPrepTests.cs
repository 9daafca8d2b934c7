using System.Diagnostics;
using System.Globalization;
using System.Text;
using FastSpool.Sasl;

namespace FastSpool.Core.Tests.Sasl;

/// <summary>SASLprep (RFC 4013) with the examples of its §3, each step on its own, and NFKC checked against an
/// independent implementation: Python's unicodedata at Unicode 3.2.</summary>
public sealed class SaslPrepTests
{
    private static SaslPrepResult Prepare(string text, out string prepared, bool stored = false)
    {
        var buffer = new char[1024];
        SaslPrepResult result = SaslPrep.Prepare(text, buffer, stored);
        prepared = new string(buffer, 0, result.Length);
        return result;
    }

    // RFC 4013 §3.
    [Theory]
    [InlineData("I\u00ADX", "IX")]    // SOFT HYPHEN mapped to nothing
    [InlineData("user", "user")]      // no transformation
    [InlineData("USER", "USER")]      // case preserved, will not match #2
    [InlineData("\u00AA", "a")]       // output is NFKC, input in ISO 8859-1
    [InlineData("\u2168", "IX")]      // output is NFKC, will match #1
    public void TheExamplesOfRfc4013Section3ArePrepared(string input, string expected)
    {
        SaslPrepResult result = Prepare(input, out string prepared);
        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(expected, prepared);
    }

    [Fact]
    public void TheProhibitedCharacterOfRfc4013Section3IsRefusedAndNamed()
    {
        SaslPrepResult result = Prepare("\u0007", out _);
        Assert.Equal(SaslPrepFailure.Prohibited, result.Failure);
        Assert.Equal("prohibited character U+0007 (RFC 3454 C.2.1)", result.ToString());
    }

    [Fact]
    public void TheBidirectionalExampleOfRfc4013Section3IsRefused()
    {
        Assert.Equal(SaslPrepFailure.Bidirectional, Prepare("\u0627\u0031", out _).Failure);
        // Right-to-left at both ends, nothing left-to-right: allowed (a digit between is neither).
        Assert.True(Prepare("\u0627\u0031\u0628", out string prepared).Succeeded);
        Assert.Equal("\u0627\u0031\u0628", prepared);
        Assert.Equal(SaslPrepFailure.Bidirectional, Prepare("\u0627a\u0628", out _).Failure);
    }

    [Theory]
    [InlineData("pass\u00A0word", "pass word")]    // C.1.2 non-ASCII spaces become SPACE
    [InlineData("pass\u3000word", "pass word")]
    [InlineData("pa\u200Bss", "pass")]             // B.1 zero width space: nothing
    [InlineData("ｐａｓｓ", "pass")]                // fullwidth forms
    [InlineData("e\u0301t\u00E9", "\u00E9t\u00E9")] // composed
    [InlineData("\uD835\uDC00", "A")]              // MATHEMATICAL BOLD CAPITAL A, beyond the BMP
    [InlineData("\uAC00\u11A8", "\uAC01")]         // Hangul LV + T composes
    [InlineData("p\u00E4ssw\u00F6rd \u2603", "p\u00E4ssw\u00F6rd \u2603")]
    public void MappingAndNormalizationMakeOneForm(string input, string expected)
    {
        SaslPrepResult result = Prepare(input, out string prepared);
        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(expected, prepared);
    }

    [Theory]
    [InlineData("a\u0000b", 0x0000, "C.2.1")]
    [InlineData("a\u0085b", 0x0085, "C.2.2")]
    [InlineData("a\uE000b", 0xE000, "C.3")]
    [InlineData("a\uFDD0b", 0xFDD0, "C.4")]
    [InlineData("a\uFFFDb", 0xFFFD, "C.6")]
    [InlineData("a\u2FF0b", 0x2FF0, "C.7")]
    [InlineData("a\u200Eb", 0x200E, "C.8")]
    [InlineData("a\U000E0001b", 0xE0001, "C.9")]
    [InlineData("tab\there", 0x0009, "C.2.1")]     // ASCII controls are prohibited too
    public void EachProhibitedTableIsRefusedAndNamed(string input, int codePoint, string table)
    {
        SaslPrepResult result = Prepare(input, out _);
        Assert.Equal(SaslPrepFailure.Prohibited, result.Failure);
        Assert.Equal(codePoint, result.CodePoint);
        Assert.Equal(table, result.Table);
    }

    [Fact]
    public void ALoneSurrogateIsRefusedAsC5()
    {
        // Built at run time: an attribute cannot carry a lone surrogate.
        string input = "a" + (char)0xD800 + "b";
        SaslPrepResult result = Prepare(input, out _);
        Assert.Equal((SaslPrepFailure.Prohibited, 0xD800, "C.5"), (result.Failure, result.CodePoint, result.Table));
    }

    [Fact]
    public void UnassignedCodePointsAreAllowedInQueriesAndRefusedInStoredStrings()
    {
        const string unassigned = "pw\u0221"; // U+0221 was assigned after Unicode 3.2
        Assert.True(Prepare(unassigned, out string prepared).Succeeded);
        Assert.Equal(unassigned, prepared);
        SaslPrepResult stored = Prepare(unassigned, out _, stored: true);
        Assert.Equal(SaslPrepFailure.Unassigned, stored.Failure);
        Assert.Equal("code point U+0221 unassigned in Unicode 3.2 (RFC 3454 A.1)", stored.ToString());
    }

    [Fact]
    public void PrintableAsciiIsUnchangedAndAStringTooLongForTheRoomIsRefused()
    {
        string ascii = string.Concat(Enumerable.Range(0x20, 0x7F - 0x20).Select(c => (char)c));
        Assert.True(Prepare(ascii, out string prepared).Succeeded);
        Assert.Equal(ascii, prepared);
        Assert.Equal(SaslPrepFailure.TooLong, SaslPrep.Prepare("abc", new char[2]).Failure);
        Assert.Equal(SaslPrepFailure.TooLong, SaslPrep.Prepare("\uFDFA", new char[8]).Failure); // NFKC: 18 characters
    }

    [Fact]
    public void NfkcAgreesWithPythonsUnicode32ForEveryCodePointAndForMixedSequences()
    {
        // Python writes: input code points, then its NFKC, as hex, one case a line.
        const string script = """
            import random, sys, unicodedata
            u = unicodedata.ucd_3_2_0
            cases = [[c] for c in range(0x30000) if not 0xD800 <= c <= 0xDFFF]
            marks = [0x300, 0x301, 0x308, 0x323, 0x327, 0x328, 0x345, 0x5B0, 0x302, 0x31B, 0x1161, 0x11A8, 0x3099]
            bases = [0x41, 0x61, 0x45, 0x4F, 0x55, 0x1100, 0xAC00, 0x3046, 0x1E9B, 0xFB01, 0x2168, 0x3300, 0x1F80, 0x212B]
            rnd = random.Random(4013)
            for _ in range(20000):
                cases.append([rnd.choice(bases + marks) for _ in range(rnd.randint(1, 6))])
            out = sys.stdout
            for case in cases:
                s = ''.join(map(chr, case))
                out.write(' '.join('%X' % c for c in case) + ';' + ' '.join('%X' % ord(c) for c in u.normalize('NFKC', s)) + '\n')
            """;
        var start = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using Process python = Process.Start(start)!;
        python.StandardInput.Write(script);
        python.StandardInput.Close();
        int cases = 0;
        var wrong = new List<string>();
        while (python.StandardOutput.ReadLine() is { } line)
        {
            string[] parts = line.Split(';');
            int[] input = Hex(parts[0]);
            string expected = parts[1];
            string actual = string.Join(' ', Nfkc.Normalize(input).Select(c => c.ToString("X", CultureInfo.InvariantCulture)));
            if (actual != expected && wrong.Count < 10)
                wrong.Add($"{parts[0]}: {actual}, Python: {expected}");
            cases++;
        }
        python.WaitForExit();
        Assert.Equal(0, python.ExitCode);
        Assert.True(cases > 200_000, $"only {cases} cases");
        Assert.Empty(wrong);
    }

    private static int[] Hex(string text) =>
        [.. text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(h => int.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture))];

    [Fact]
    public void ThePreparedFormEncodesAsUtf8LikeAnyString() =>
        Assert.Equal("IX"u8.ToArray(), Encoding.UTF8.GetBytes(SaslPrep.Prepare("\u2168", out _)!));
}
