using System.Globalization;

namespace FastSpool.Queue;

/// <summary>A message's queue id: seconds since the epoch in the high bits and a counter in the low 20 bits, so ids
/// sort by arrival and stay unique across restarts. Shown as 13 upper-case hex digits, like Postfix's ids.</summary>
public readonly record struct QueueId(ulong Value) : IUtf8SpanFormattable
{
    public const int TextLength = 13;

    public override string ToString() => Value.ToString("X13", CultureInfo.InvariantCulture);

    public bool TryFormat(Span<byte> destination, out int written) =>
        Value.TryFormat(destination, out written, "X13", CultureInfo.InvariantCulture);

    bool IUtf8SpanFormattable.TryFormat(Span<byte> utf8Destination, out int bytesWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        TryFormat(utf8Destination, out bytesWritten);

    public static bool TryParse(ReadOnlySpan<char> text, out QueueId id)
    {
        if (text.Length is > 0 and <= 16
            && ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value))
        {
            id = new QueueId(value);
            return true;
        }
        id = default;
        return false;
    }
}
