using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Tests.Support;

/// <summary>The server's log lines as the tests read them: each line's message (<c>6B05C71800001: removed</c>),
/// without the time, component and level that the mail log puts before it.</summary>
internal sealed class CapturedLog : ILoggerProvider
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
                return [.. _lines];
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private void Add(string line)
    {
        lock (_lines)
            _lines.Add(line);
    }

    private sealed class Logger(CapturedLog log) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log.Add(exception is null ? formatter(state, exception) : formatter(state, exception) + " " + exception);
    }
}
