using System.Collections.Concurrent;
using System.Globalization;

namespace FastSpool.Server.Smtp;

/// <summary>The reply code (<c>550</c>) and enhanced status code (<c>5.1.1</c>, RFC 3463) of a reply, as strings
/// made once per distinct value: counting a refusal by its codes allocates nothing after the first of its kind.</summary>
internal static class ReplyTags
{
    private const int EnhancedKey = 1 << 24;

    private static readonly ConcurrentDictionary<int, string> Names = new();

    /// <summary>Reads <c>550 5.1.1 ...</c> (or <c>421-...</c>); a reply without an enhanced code gives "" for it.</summary>
    public static (string Code, string Enhanced) Of(ReadOnlySpan<byte> reply)
    {
        if (reply.Length < 3 || !IsDigits(reply[..3]))
            return ("", "");
        int code = ((reply[0] - '0') * 100) + ((reply[1] - '0') * 10) + (reply[2] - '0');
        string enhanced = reply.Length > 4 && TryEnhanced(reply[4..], out int key) ? Name(EnhancedKey | key) : "";
        return (Name(code), enhanced);
    }

    // RFC 3463 §2: class "." subject "." detail; class one digit, subject and detail one to three.
    private static bool TryEnhanced(ReadOnlySpan<byte> text, out int key)
    {
        key = 0;
        if (text.Length < 5 || text[0] is not ((byte)'2' or (byte)'4' or (byte)'5') || text[1] != '.')
            return false;
        int i = 2;
        if (!TryNumber(text, ref i, out int subject) || i >= text.Length || text[i] != '.')
            return false;
        i++;
        if (!TryNumber(text, ref i, out int detail) || (i < text.Length && text[i] is not ((byte)' ' or (byte)'\r')))
            return false;
        key = ((text[0] - '0') << 20) | (subject << 10) | detail;
        return true;
    }

    private static bool TryNumber(ReadOnlySpan<byte> text, ref int i, out int value)
    {
        value = 0;
        int start = i;
        while (i < text.Length && i - start < 3 && char.IsAsciiDigit((char)text[i]))
            value = (value * 10) + (text[i++] - '0');
        return i > start;
    }

    private static bool IsDigits(ReadOnlySpan<byte> text) =>
        char.IsAsciiDigit((char)text[0]) && char.IsAsciiDigit((char)text[1]) && char.IsAsciiDigit((char)text[2]);

    private static string Name(int key) => Names.GetOrAdd(key, static k => (k & EnhancedKey) == 0
        ? k.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{(k >> 20) & 0xF}.{(k >> 10) & 0x3FF}.{k & 0x3FF}"));
}
