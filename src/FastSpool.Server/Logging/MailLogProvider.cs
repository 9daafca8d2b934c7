using FastSpool.Logging;
using System.Text;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Logging;

/// <summary>The mail log: one grep-able line per event, like Postfix's, written to standard output in batches by a
/// <see cref="MailLogWriter"/>. Lines built with <see cref="MailLogExtensions.Line"/> arrive as UTF-8 and are
/// copied without allocating; other log calls are formatted by their formatter and encoded once.
/// <c>2026-11-24T17:02:50.123Z smtpd info: connect from [127.0.0.1]</c>.</summary>
internal sealed class MailLogProvider : ILoggerProvider
{
    private readonly MailLogWriter _writer;
    private readonly LogLevelSwitch _minimum;

    public MailLogProvider(LogLevel minimum, Stream? output = null)
        : this(new LogLevelSwitch(minimum), output)
    {
    }

    internal MailLogProvider(LogLevelSwitch minimum, Stream? output = null)
        : this(minimum, new MailLogWriter(output ?? Console.OpenStandardOutput()))
    {
    }

    internal MailLogProvider(LogLevel minimum, MailLogWriter writer)
        : this(new LogLevelSwitch(minimum), writer)
    {
    }

    private MailLogProvider(LogLevelSwitch minimum, MailLogWriter writer)
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

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider._minimum.Minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            // The hot path: lines built by MailLogExtensions.Line arrive as UTF-8; others are encoded once here.
            Utf8LogLine? line = Compose(state as Utf8LogLine, state is Utf8LogLine ? null : formatter(state, exception), exception);
            if (line is null)
                return;
            Span<byte> prefix = stackalloc byte[MailLogWriter.MaxPrefix];
            int length = MailLogWriter.WritePrefix(prefix, DateTime.UtcNow, _component, logLevel);
            provider._writer.Append(prefix[..length], line.Text);
        }
    }

    /// <summary>The text of a line: a ready UTF-8 line or a formatted message, and the exception's type and
    /// message after it; null when there is nothing to log.</summary>
    private static Utf8LogLine? Compose(Utf8LogLine? ready, string? message, Exception? exception)
    {
        if (ready is null && string.IsNullOrEmpty(message) && exception is null)
            return null;
        Utf8LogLine line = ready ?? Utf8LogLine.Start();
        if (ready is null)
            line.AppendChars(message);
        if (exception is not null)
        {
            line.AppendChars(" (");
            line.AppendChars(exception.GetType().Name);
            line.AppendChars(": ");
            line.AppendChars(exception.Message);
            line.AppendChars(")");
        }
        return line;
    }

    /// <summary>One whole line as the log writes it, for tests.</summary>
    internal static string Format(DateTime utc, string component, LogLevel level, string message, Exception? exception)
    {
        Span<byte> prefix = stackalloc byte[MailLogWriter.MaxPrefix];
        int length = MailLogWriter.WritePrefix(prefix, utc, Encoding.UTF8.GetBytes(component), level);
        Utf8LogLine? line = Compose(null, message, exception);
        return Encoding.UTF8.GetString(prefix[..length]) + (line is null ? "" : Encoding.UTF8.GetString(line.Text)) + "\n";
    }
}
