using System.Buffers;
using System.Text;
using FastSpool.Protocols.Pop3;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Protocols.Tests.Pop3;

public sealed class Pop3CommandParserTests
{
    [Theory]
    [InlineData("USER alice", Pop3Verb.User, "alice")]
    [InlineData("user alice", Pop3Verb.User, "alice")]
    [InlineData("PASS pass word ", Pop3Verb.Pass, "pass word")]
    [InlineData("STAT", Pop3Verb.Stat, "")]
    [InlineData("LIST 3", Pop3Verb.List, "3")]
    [InlineData("LIST ", Pop3Verb.List, "")]
    [InlineData("Retr 1", Pop3Verb.Retr, "1")]
    [InlineData("DELE 1", Pop3Verb.Dele, "1")]
    [InlineData("NOOP", Pop3Verb.Noop, "")]
    [InlineData("RSET", Pop3Verb.Rset, "")]
    [InlineData("QUIT", Pop3Verb.Quit, "")]
    [InlineData("TOP 1 10", Pop3Verb.Top, "1 10")]
    [InlineData("UIDL", Pop3Verb.Uidl, "")]
    [InlineData("CAPA", Pop3Verb.Capa, "")]
    [InlineData("AUTH PLAIN AGFsaWNlAHNlY3JldA==", Pop3Verb.Auth, "PLAIN AGFsaWNlAHNlY3JldA==")]
    [InlineData("STLS", Pop3Verb.Stls, "")]
    [InlineData("APOP a b", Pop3Verb.Apop, "a b")]
    [InlineData("XTND", Pop3Verb.Unknown, "")]
    [InlineData("STATS", Pop3Verb.Unknown, "")]
    [InlineData("", Pop3Verb.Unknown, "")]
    [InlineData(" STAT", Pop3Verb.Unknown, "STAT")]
    public void ParsesTheKeywordInAnyCaseAndSlicesTheArgument(string line, Pop3Verb verb, string argument)
    {
        Assert.Equal(verb, Pop3CommandParser.Parse(Encoding.ASCII.GetBytes(line), out ReadOnlySpan<byte> parsed));
        if (verb != Pop3Verb.Unknown)
            Assert.Equal(argument, Encoding.ASCII.GetString(parsed));
    }

    [Theory]
    [InlineData("1", true, 1)]
    [InlineData("0", true, 0)]
    [InlineData("123456789", true, 123456789)]
    [InlineData("1234567890", false, 0)]
    [InlineData("-1", false, 0)]
    [InlineData("+1", false, 0)]
    [InlineData("1 ", false, 0)]
    [InlineData("1a", false, 0)]
    [InlineData("", false, 0)]
    public void MessageNumbersAreDigitsOnly(string text, bool valid, int number)
    {
        Assert.Equal(valid, Pop3CommandParser.TryParseNumber(Encoding.ASCII.GetBytes(text), out int parsed));
        if (valid)
            Assert.Equal(number, parsed);
    }

    [Theory]
    [InlineData("1 0", true, 1, 0)]
    [InlineData("2 15", true, 2, 15)]
    [InlineData("1", false, 0, 0)]
    [InlineData("1 x", false, 0, 0)]
    [InlineData("1  2", false, 0, 0)]
    public void TopTakesAMessageAndALineCount(string text, bool valid, int message, int lines)
    {
        Assert.Equal(valid, Pop3CommandParser.TryParseTop(Encoding.ASCII.GetBytes(text), out int m, out int n));
        if (valid)
            Assert.Equal((message, lines), (m, n));
    }

    [Theory]
    [InlineData("PLAIN", "PLAIN", false, "")]
    [InlineData("PLAIN abc=", "PLAIN", true, "abc=")]
    [InlineData("PLAIN =", "PLAIN", true, "")]
    [InlineData("plain x", "plain", true, "x")]
    public void AuthSplitsTheMechanismAndTheInitialResponse(string argument, string mechanism, bool hasInitial, string initial)
    {
        Pop3CommandParser.SplitAuth(Encoding.ASCII.GetBytes(argument), out ReadOnlySpan<byte> m, out ReadOnlySpan<byte> i, out bool has);
        Assert.Equal(mechanism, Encoding.ASCII.GetString(m));
        Assert.Equal(hasInitial, has);
        Assert.Equal(initial, Encoding.ASCII.GetString(i));
        Assert.True(Pop3CommandParser.IsPlain(m));
    }

    [Fact]
    public void APipelinedBatchSplitAnywhereGivesTheSameCommands()
    {
        byte[] input = Encoding.ASCII.GetBytes("USER alice\r\nPASS a b\r\nLIST 1\r\nTOP 2 5\r\nRETR 3\r\nQUIT\r\n");
        string[] expected = ["User alice", "Pass a b", "List 1", "Top 2 5", "Retr 3", "Quit "];
        for (int split = 0; split <= input.Length; split++)
        {
            var reader = new CommandLineReader();
            var seen = new List<string>();
            byte[] held = [];
            foreach (byte[] chunk in new[] { input[..split], input[split..] })
            {
                ReadOnlySequence<byte> buffer = SegmentedSequence.Create(held, chunk);
                var sequence = new SequenceReader<byte>(buffer);
                while (reader.TryReadLine(ref sequence, Pop3CommandParser.MaxCommandLine, out ReadOnlySequence<byte> line) == LineReadStatus.Line)
                {
                    Pop3Verb verb = Pop3CommandParser.Parse(line.ToArray(), out ReadOnlySpan<byte> argument);
                    seen.Add(verb + " " + Encoding.ASCII.GetString(argument));
                }
                held = sequence.UnreadSequence.ToArray();
            }
            Assert.Equal(expected, seen);
        }
    }
}
