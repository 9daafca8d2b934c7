using System.Text;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Logging;

/// <summary>The mail log: one grep-able line per event, like Postfix's, written to standard output in batches by a
/// <see cref="MailLogWriter"/>. Lines built with <see cref="MailLogExtensions.Line"/> arrive as UTF-8 and are
/// copied without allocating; other log calls are formatted as strings.
/// <c>2026-11-24T17:02:50.123Z smtpd info: connect from [127.0.0.1]</c>.</summary>
internal sealed class MailLogProvider : ILoggerProvider
{
    private readonly MailLogWriter _writer;
    private readonly LogLevel _minimum;

    public MailLogProvider(LogLevel minimum, Stream? output = null)
        : this(minimum, new MailLogWriter(output ?? Console.OpenStandardOutput()))
    {
    }

    internal MailLogProvider(LogLevel minimum, MailLogWriter writer)
    {
        _minimum = minimum;
        _writer = writer;
    }

    public ILogger CreateLogger(string categoryName)
    {
        int dot = categoryName.LastIndexOf('.');
        return new MailLogger(this, dot < 0 ? categoryName : categoryName[(dot + 1)..]);
    }

    /// <summary>Writes what is queued, then stops.</summary>
    public void Dispose() => _writer.Dispose();

    private sealed class MailLogger(MailLogProvider provider, string component) : ILogger
    {
        private readonly byte[] _component = Encoding.UTF8.GetBytes(component.Length > 40 ? component[..40] : component);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            if (state is Utf8LogLine line && exception is null)
            {
                // The hot path: the line is already UTF-8; only the prefix is formatted, on the stack.
                Span<byte> prefix = stackalloc byte[96];
                int length = WritePrefix(prefix, DateTime.UtcNow, _component, logLevel);
                provider._writer.Append(prefix[..length], line.Text);
                return;
            }
            string message = formatter(state, exception);
            if (string.IsNullOrEmpty(message) && exception is null)
                return;
            provider._writer.Append(Encoding.UTF8.GetBytes(Format(DateTime.UtcNow, component, logLevel, message, exception)));
        }
    }

    /// <summary><c>2026-11-24T17:02:50.123Z smtpd info: </c></summary>
    private static int WritePrefix(Span<byte> destination, DateTime utc, ReadOnlySpan<byte> component, LogLevel level)
    {
        utc.TryFormat(destination, out int n, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        destination[n++] = (byte)' ';
        component.CopyTo(destination[n..]);
        n += component.Length;
        destination[n++] = (byte)' ';
        ReadOnlySpan<byte> name = LevelUtf8(level);
        name.CopyTo(destination[n..]);
        n += name.Length;
        ": "u8.CopyTo(destination[n..]);
        return n + 2;
    }

    private static ReadOnlySpan<byte> LevelUtf8(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace"u8,
        LogLevel.Debug => "debug"u8,
        LogLevel.Information => "info"u8,
        LogLevel.Warning => "warning"u8,
        LogLevel.Error => "error"u8,
        LogLevel.Critical => "fatal"u8,
        _ => "none"u8,
    };

    internal static string Format(DateTime utc, string component, LogLevel level, string message, Exception? exception)
    {
        var line = new StringBuilder(64 + message.Length);
        Span<char> time = stackalloc char[32];
        utc.TryFormat(time, out int written, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        line.Append(time[..written]).Append(' ').Append(component).Append(' ').Append(Level(level)).Append(": ");
        line.Append(message.ReplaceLineEndings(" "));
        if (exception is not null)
            line.Append(" (").Append(exception.GetType().Name).Append(": ").Append(exception.Message.ReplaceLineEndings(" ")).Append(')');
        return line.Append('\n').ToString();
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        LogLevel.Critical => "fatal",
        _ => "none",
    };
}
