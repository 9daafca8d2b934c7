using System.Text;
using FastSpool.Bench.Messages;

namespace FastSpool.Bench.Tests;

public sealed class DotStuffingTests
{
    private static string Stuff(string text) => Encoding.ASCII.GetString(DotStuffing.Stuff(Encoding.ASCII.GetBytes(text)));

    [Theory]
    [InlineData("", ".\r\n")]
    [InlineData("plain\r\n", "plain\r\n.\r\n")]
    [InlineData(".\r\n", "..\r\n.\r\n")]
    [InlineData(".hidden\r\n", "..hidden\r\n.\r\n")]
    [InlineData("a\r\n.b\r\n..c\r\nd.e\r\n", "a\r\n..b\r\n...c\r\nd.e\r\n.\r\n")]
    [InlineData("no line end", "no line end\r\n.\r\n")]
    [InlineData("a\r\n.", "a\r\n..\r\n.\r\n")]
    [InlineData("bare\n.lf\r\n", "bare\n..lf\r\n.\r\n")]
    public void LeadingDotsAreDoubledAndTheTerminatorAdded(string text, string wire) =>
        Assert.Equal(wire, Stuff(text));

    [Fact]
    public void StuffedTextUnstuffsToTheOriginal()
    {
        string text = ".one\r\n..two\r\nthree.\r\n.\r\n";
        string wire = Stuff(text);
        Assert.EndsWith("\r\n.\r\n", wire);
        string[] lines = wire[..^5].Split("\r\n");
        string back = string.Join("\r\n", lines.Select(l => l.StartsWith('.') ? l[1..] : l)) + "\r\n";
        Assert.Equal(text, back);
    }
}
