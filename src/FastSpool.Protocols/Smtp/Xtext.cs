// RFC 3461 §4 (xtext), the encoding of the DSN parameters ENVID (§4.4) and ORCPT (§4.2).
using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace FastSpool.Protocols.Smtp;

/// <summary>xtext: <c>*( xchar / hexchar )</c>, where xchar is an octet from <c>!</c> (0x21) to <c>~</c> (0x7E)
/// other than <c>+</c> and <c>=</c>, and hexchar is <c>+</c> followed by two upper-case hexadecimal digits.
/// The RFC 6533 <c>\x{HEX}</c> escapes of an ORCPT of type <c>utf-8</c> are plain xchars here: they are
/// neither checked nor decoded.</summary>
public static class Xtext
{
    private const byte HexPrefix = (byte)'+';

    private static readonly SearchValues<byte> s_xchar =
        SearchValues.Create("!\"#$%&'()*,-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"u8);

    private static ReadOnlySpan<byte> UpperHexDigits => "0123456789ABCDEF"u8;

    /// <summary>Whether <paramref name="xtext"/> is well-formed xtext. The empty span is.</summary>
    public static bool IsValid(ReadOnlySpan<byte> xtext)
    {
        int i = 0;
        while (true)
        {
            int run = xtext[i..].IndexOfAnyExcept(s_xchar);
            if (run < 0)
                return true;
            i += run;
            if (HexValue(xtext, i) < 0)
                return false;
            i += 3;
        }
    }

    /// <summary>Decodes <paramref name="xtext"/> into <paramref name="destination"/>, which needs at most
    /// <c>xtext.Length</c> octets. Returns the number of octets written, or -1 when the xtext is not well-formed
    /// (what was written by then is undefined).</summary>
    /// <exception cref="ArgumentException">The decoded value does not fit in <paramref name="destination"/>.</exception>
    public static int Decode(ReadOnlySpan<byte> xtext, Span<byte> destination)
    {
        int read = 0;
        int written = 0;
        while (CopyXchars(xtext, ref read, destination, ref written))
        {
            int value = HexValue(xtext, read);
            if (value < 0)
                return -1;
            if (written == destination.Length)
                ThrowDestinationTooSmall();
            destination[written++] = (byte)value;
            read += 3;
        }

        return written;
    }

    /// <summary>The length of <paramref name="value"/> encoded as xtext: one octet per xchar, three per other
    /// octet.</summary>
    public static int GetEncodedLength(ReadOnlySpan<byte> value)
    {
        int length = value.Length;
        int i = 0;
        while (true)
        {
            int run = value[i..].IndexOfAnyExcept(s_xchar);
            if (run < 0)
                return length;
            i += run + 1;
            length += 2;
        }
    }

    /// <summary>Encodes <paramref name="value"/> as xtext into <paramref name="destination"/>, which needs
    /// <see cref="GetEncodedLength"/> octets: xchars as themselves, every other octet (<c>+</c>, <c>=</c>, SP,
    /// controls, DEL, 0x80 and above) as <c>+</c> and two upper-case hexadecimal digits. Returns the number of
    /// octets written.</summary>
    /// <exception cref="ArgumentException">The encoded value does not fit in <paramref name="destination"/>.</exception>
    public static int Encode(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        int read = 0;
        int written = 0;
        while (CopyXchars(value, ref read, destination, ref written))
        {
            if (destination.Length - written < 3)
                ThrowDestinationTooSmall();
            byte octet = value[read++];
            destination[written] = HexPrefix;
            destination[written + 1] = UpperHexDigits[octet >> 4];
            destination[written + 2] = UpperHexDigits[octet & 0xF];
            written += 3;
        }

        return written;
    }

    // Copies the run of xchars at source[read..], which stand for themselves in both directions. False when that
    // run ends the source, true when an octet that is not an xchar follows it.
    private static bool CopyXchars(ReadOnlySpan<byte> source, ref int read, Span<byte> destination, ref int written)
    {
        int run = source[read..].IndexOfAnyExcept(s_xchar);
        if (run < 0)
            run = source.Length - read;
        if (run > destination.Length - written)
            ThrowDestinationTooSmall();
        source.Slice(read, run).CopyTo(destination[written..]);
        read += run;
        written += run;
        return read < source.Length;
    }

    // The octet a hexchar at xtext[i] stands for, or -1 when there is none there.
    private static int HexValue(ReadOnlySpan<byte> xtext, int i)
    {
        if (xtext.Length - i < 3 || xtext[i] != HexPrefix)
            return -1;
        int high = UpperHexDigits.IndexOf(xtext[i + 1]);
        int low = UpperHexDigits.IndexOf(xtext[i + 2]);
        return high < 0 || low < 0 ? -1 : (high << 4) | low;
    }

    [DoesNotReturn]
    private static void ThrowDestinationTooSmall() =>
        throw new ArgumentException("The destination is too small.", "destination");
}
