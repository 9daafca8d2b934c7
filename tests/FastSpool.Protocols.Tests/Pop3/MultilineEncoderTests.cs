using System.Text;
using FastSpool.Protocols.Pop3;

namespace FastSpool.Protocols.Tests.Pop3;

public sealed class MultilineEncoderTests
{
    private static readonly int[] s_outputSizes = [2, 3, 7, 64];

    private static readonly string[] s_texts =
    [
        "",
        "a",
        "\n",
        ".",
        ".\n",
        "..\n",
        "line\n",
        "no end",
        "Subject: x\n\n.leading dot\n..two\n.\nend\n",
        "crlf already\r\nmixed\nlone cr\r in the middle\n\r\n",
        ">From quoted\nFrom x\n. dot space\n",
        "ends in cr\r",
        "\n\n\n.\n\n",
        "Gr\u00fc\u00dfe \u65e5\u672c\n.\u00fc\n",
    ];

    /// <summary>The oracle: what RFC 1939 §3 asks, written the plain way, line by line.</summary>
    private static byte[] Expected(byte[] text)
    {
        var output = new MemoryStream();
        bool lineStart = true;
        for (int i = 0; i < text.Length; i++)
        {
            byte b = text[i];
            if (lineStart && b == '.')
                output.WriteByte((byte)'.');
            if (b == '\n' && (i == 0 || text[i - 1] != '\r'))
                output.WriteByte((byte)'\r');
            output.WriteByte(b);
            lineStart = b == '\n';
        }
        if (text.Length > 0 && text[^1] != '\n')
            output.Write("\r\n"u8);
        return output.ToArray();
    }

    private static byte[] Unstuff(byte[] encoded)
    {
        var output = new MemoryStream();
        bool lineStart = true;
        foreach (byte b in encoded)
        {
            if (lineStart && b == '.')
            {
                lineStart = false;
                continue;
            }
            output.WriteByte(b);
            lineStart = b == '\n';
        }
        return output.ToArray();
    }

    /// <summary>Feeds the input in two pieces split at <paramref name="split"/>, into output windows of
    /// <paramref name="window"/> octets.</summary>
    private static byte[] Encode(byte[] input, int split, int window)
    {
        var encoder = new MultilineEncoder();
        var output = new List<byte>();
        byte[] buffer = new byte[window];
        foreach (ReadOnlyMemory<byte> piece in new[] { input.AsMemory(0, split), input.AsMemory(split) })
        {
            ReadOnlySpan<byte> rest = piece.Span;
            while (true)
            {
                bool done = encoder.Encode(rest, buffer, out int consumed, out int written);
                Assert.InRange(written, 0, window);
                output.AddRange(buffer.AsSpan(0, written).ToArray());
                rest = rest[consumed..];
                if (done)
                {
                    Assert.True(rest.IsEmpty);
                    break;
                }
                Assert.True(consumed > 0 || written > 0 || window < 2, "no progress with room for two octets");
            }
        }
        Span<byte> end = stackalloc byte[2];
        output.AddRange(end[..encoder.Finish(end)].ToArray());
        return [.. output];
    }

    [Fact]
    public void EveryTextAtEverySplitPointAndOutputWindowEncodesAsTheOracleSays()
    {
        foreach (string text in s_texts)
        {
            byte[] input = Encoding.UTF8.GetBytes(text);
            byte[] expected = Expected(input);
            for (int split = 0; split <= input.Length; split++)
            {
                foreach (int window in s_outputSizes)
                    Assert.True(expected.AsSpan().SequenceEqual(Encode(input, split, window)), $"'{text}' split at {split}, window {window}");
            }
        }
    }

    [Fact]
    public void TheMeasuredSizeIsTheEncodedTextWithoutItsStuffing()
    {
        foreach (string text in s_texts)
        {
            byte[] input = Encoding.UTF8.GetBytes(text);
            Assert.Equal(Unstuff(Expected(input)).Length, MultilineEncoder.MeasureUnstuffed(input));
        }
    }

    [Fact]
    public void ALineThatIsOnlyADotBecomesTwoDotsSoItCannotEndTheResponse()
    {
        Assert.Equal("..\r\nx\r\n", Encoding.ASCII.GetString(Encode(Encoding.ASCII.GetBytes(".\nx\n"), 1, 64)));
    }

    [Fact]
    public void FinishMakesTheEncoderReadyForTheNextMessage()
    {
        var encoder = new MultilineEncoder();
        Span<byte> output = stackalloc byte[16];
        encoder.Encode("abc"u8, output, out _, out _);
        Assert.Equal(2, encoder.Finish(output));
        encoder.Encode(".x\n"u8, output, out _, out int written);
        Assert.Equal("..x\r\n", Encoding.ASCII.GetString(output[..written]));
    }
}
