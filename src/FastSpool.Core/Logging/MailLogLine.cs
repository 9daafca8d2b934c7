using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace FastSpool.Logging;

/// <summary>The text of one log line in UTF-8, formatted by <see cref="MailLogLine"/> without allocating: one
/// instance per thread, reused by every line that thread logs. It is the <c>TState</c> handed to
/// <see cref="ILogger.Log{TState}"/>; the mail log copies its bytes, any other logger provider gets a string.</summary>
public sealed class Utf8LogLine
{
    /// <summary>Longer lines are cut here and end in "...".</summary>
    public const int MaxLength = 8192;

    public static readonly Func<Utf8LogLine, Exception?, string> Formatter = (line, _) => line.ToString();

    [ThreadStatic]
    private static Utf8LogLine? t_current;

    private byte[] _buffer = new byte[512];
    private int _length;
    private bool _truncated;

    public ReadOnlySpan<byte> Text => _buffer.AsSpan(0, _length);

    public static Utf8LogLine Start()
    {
        Utf8LogLine line = t_current ??= new Utf8LogLine();
        line._length = 0;
        line._truncated = false;
        return line;
    }

    public override string ToString() => Encoding.UTF8.GetString(Text);

    /// <summary>UTF-16 text; line breaks become spaces so that one event stays one line.</summary>
    public void AppendChars(ReadOnlySpan<char> text)
    {
        Span<byte> room = Room(Encoding.UTF8.GetMaxByteCount(text.Length));
        System.Text.Unicode.Utf8.FromUtf16(text, room, out int read, out int written);
        ReplaceLineBreaks(room[..written]);
        Advance(written, read < text.Length);
    }

    /// <summary>Text that is already UTF-8 (an address or a HELO name as the client sent it).</summary>
    public void AppendBytes(ReadOnlySpan<byte> utf8)
    {
        Span<byte> room = Room(utf8.Length);
        int written = Math.Min(utf8.Length, room.Length);
        utf8[..written].CopyTo(room);
        ReplaceLineBreaks(room[..written]);
        Advance(written, written < utf8.Length);
    }

    public void AppendValue<T>(T value, ReadOnlySpan<char> format) where T : IUtf8SpanFormattable
    {
        for (int size = 32; ; size *= 4)
        {
            Span<byte> room = Room(size);
            if (value.TryFormat(room, out int written, format, CultureInfo.InvariantCulture))
            {
                Advance(written, false);
                return;
            }
            if (room.Length < size)
            {
                Advance(0, true);
                return;
            }
        }
    }

    private Span<byte> Room(int wanted)
    {
        if (_truncated)
            return [];
        int limit = MaxLength - _length;
        wanted = Math.Min(wanted, limit);
        if (_length + wanted > _buffer.Length)
            Array.Resize(ref _buffer, Math.Min(MaxLength, Math.Max(_buffer.Length * 2, _length + wanted)));
        return _buffer.AsSpan(_length, wanted);
    }

    private void Advance(int written, bool cut)
    {
        _length += written;
        if (cut && !_truncated)
        {
            _truncated = true;
            int at = Math.Min(_length, MaxLength - 3);
            "..."u8.CopyTo(_buffer.AsSpan(at));
            _length = at + 3;
        }
    }

    private static void ReplaceLineBreaks(Span<byte> text)
    {
        int i;
        while ((i = text.IndexOfAny((byte)'\r', (byte)'\n')) >= 0)
        {
            text[i] = (byte)' ';
            text = text[(i + 1)..];
        }
    }
}

/// <summary>Builds a log line from an interpolated string straight into UTF-8: numbers, queue ids and times through
/// <see cref="IUtf8SpanFormattable"/>, wire bytes as they are, no boxing and no string per value. Nothing is done
/// when the level is off.</summary>
[InterpolatedStringHandler]
public ref struct MailLogLine
{
    private readonly Utf8LogLine? _line;

    public MailLogLine(int literalLength, int formattedCount, ILogger logger, LogLevel level, out bool enabled)
    {
        enabled = logger.IsEnabled(level);
        _line = enabled ? Utf8LogLine.Start() : null;
    }

    public readonly Utf8LogLine? Line => _line;

    public readonly void AppendLiteral(string text) => _line!.AppendChars(text);

    public readonly void AppendFormatted(string? text) => _line!.AppendChars(text);

    public readonly void AppendFormatted(ReadOnlySpan<char> text) => _line!.AppendChars(text);

    public readonly void AppendFormatted(ReadOnlySpan<byte> utf8) => _line!.AppendBytes(utf8);

    public readonly void AppendFormatted<T>(T value) where T : IUtf8SpanFormattable => _line!.AppendValue(value, default);

    public readonly void AppendFormatted<T>(T value, string? format) where T : IUtf8SpanFormattable => _line!.AppendValue(value, format);
}

public static class MailLogExtensions
{
    /// <summary>Logs one line built by <see cref="MailLogLine"/>: <c>log.Line(LogLevel.Information, $"{id}: size={size}")</c>.</summary>
    public static void Line(this ILogger logger, LogLevel level, [InterpolatedStringHandlerArgument("logger", "level")] ref MailLogLine line)
    {
        if (line.Line is { } text)
            logger.Log(level, default, text, null, Utf8LogLine.Formatter);
    }
}
