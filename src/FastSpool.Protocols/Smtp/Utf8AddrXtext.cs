// RFC 6533 §3: the utf-8 address type of ORCPT and of DSN fields; utf-8-addr-xtext (QCHAR and \x{HEX}), and its raw
// UTF-8 form utf-8-addr-unitext, allowed in ORCPT when the transaction uses SMTPUTF8 (RFC 6531).
using System.Buffers;
using System.Globalization;
using System.Text;

namespace FastSpool.Protocols.Smtp;

/// <summary>The <c>utf-8</c> address type of RFC 6533: an internationalized address in ORCPT and in DSN fields,
/// written 7-bit as utf-8-addr-xtext (printable ASCII but space, '+', '=' and '\' as they are, every other character
/// as <c>\x{HEX}</c>), or, in an SMTPUTF8 transaction, with raw UTF-8 (utf-8-addr-unitext). FastSpool keeps the
/// address decoded (<c>utf-8;jöran@example.org</c>) and writes it in the 7-bit form wherever it goes out.</summary>
public static class Utf8AddrXtext
{
    private static readonly SearchValues<byte> s_hex = SearchValues.Create("0123456789ABCDEFabcdef"u8);

    /// <summary>Whether an ORCPT value (<c>addr-type ";" address</c>) is of the utf-8 type.</summary>
    public static bool IsUtf8Type(ReadOnlySpan<byte> value)
    {
        int semicolon = value.IndexOf((byte)';');
        return semicolon > 0 && Ascii.EqualsIgnoreCase(value[..semicolon], "utf-8"u8);
    }

    /// <inheritdoc cref="IsUtf8Type(ReadOnlySpan{byte})"/>
    public static bool IsUtf8Type(string value)
    {
        int semicolon = value.IndexOf(';', StringComparison.Ordinal);
        return semicolon > 0 && value.AsSpan(0, semicolon).Equals("utf-8", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Turns each <c>\x{HEX}</c> (one to six hex digits naming a Unicode scalar value) into its UTF-8 octets,
    /// in place; anything else stays as it is. Returns the new length, never more than the old: an escape is longer
    /// than what it stands for.</summary>
    public static int DecodeInPlace(Span<byte> text)
    {
        int write = 0;
        int read = 0;
        while (read < text.Length)
        {
            if (TryEscape(text[read..], out int scalar, out int length))
            {
                write += new Rune(scalar).EncodeToUtf8(text[write..]);
                read += length;
            }
            else
            {
                text[write++] = text[read++];
            }
        }
        return write;
    }

    /// <summary>The address in utf-8-addr-xtext: QCHAR as it is, every other character as <c>\x{HEX}</c>.</summary>
    public static string Encode(string address)
    {
        var text = new StringBuilder(address.Length + 16);
        foreach (Rune rune in address.EnumerateRunes())
        {
            int c = rune.Value;
            if (c is <= ' ' or >= 0x7f or '+' or '=' or '\\')
                text.Append(@"\x{").Append(c.ToString("X2", CultureInfo.InvariantCulture)).Append('}');
            else
                text.Append((char)c);
        }
        return text.ToString();
    }

    // EmbeddedUnicodeChar = %x5C.78 "{" HEXPOINT "}"
    private static bool TryEscape(ReadOnlySpan<byte> text, out int scalar, out int length)
    {
        scalar = 0;
        length = 0;
        if (text.Length < 5 || text[0] != (byte)'\\' || text[1] != (byte)'x' || text[2] != (byte)'{')
            return false;
        int close = text[3..Math.Min(text.Length, 10)].IndexOf((byte)'}');
        if (close < 1 || text.Slice(3, close).ContainsAnyExcept(s_hex)
            || !int.TryParse(text.Slice(3, close), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out scalar))
        {
            return false;
        }
        length = close + 4;
        return Rune.IsValid(scalar);
    }
}
