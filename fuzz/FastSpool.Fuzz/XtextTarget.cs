using FastSpool.Protocols.Smtp;

namespace FastSpool.Fuzz;

/// <summary>RFC 3461 xtext: any input is checked and, when valid, decoded; any input as a value encodes to valid
/// xtext of the announced length that decodes back to it.</summary>
internal static class XtextTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (Xtext.IsValid(input))
        {
            byte[] decoded = new byte[input.Length];
            int length = Xtext.Decode(input, decoded);
            FuzzAssert.True(length >= 0 && length <= input.Length, "decoded length out of range");
        }

        int encodedLength = Xtext.GetEncodedLength(input);
        byte[] encoded = new byte[encodedLength];
        int written = Xtext.Encode(input, encoded);
        FuzzAssert.True(written == encodedLength, "Encode wrote another length than GetEncodedLength announced");
        FuzzAssert.True(Xtext.IsValid(encoded), "Encode produced invalid xtext");
        byte[] back = new byte[encoded.Length];
        int backLength = Xtext.Decode(encoded, back);
        FuzzAssert.True(back.AsSpan(0, backLength).SequenceEqual(input), "xtext did not decode back to the value encoded");
    }
}
