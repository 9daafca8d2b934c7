using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Logging;

/// <summary>The mail log: one grep-able line per event, like Postfix's, written to standard output in batches —
/// one write for everything that piled up while the previous write ran, instead of a write per line.
/// <c>2026-11-24T17:02:50.123Z smtpd info: connect from [127.0.0.1]</c>.</summary>
internal sealed class MailLogProvider : ILoggerProvider
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Stream _output;
    private readonly LogLevel _minimum;
    private readonly Task _writer;

    public MailLogProvider(LogLevel minimum, Stream? output = null)
    {
        _minimum = minimum;
        _output = output ?? Console.OpenStandardOutput();
        _writer = Task.Run(WriteLoopAsync);
    }

    public ILogger CreateLogger(string categoryName)
    {
        int dot = categoryName.LastIndexOf('.');
        return new MailLogger(this, dot < 0 ? categoryName : categoryName[(dot + 1)..]);
    }

    private void Enqueue(string line) => _lines.Writer.TryWrite(line);

    private async Task WriteLoopAsync()
    {
        byte[] buffer = new byte[64 * 1024];
        ChannelReader<string> reader = _lines.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                int used = 0;
                while (reader.TryRead(out string? line))
                {
                    int size = Encoding.UTF8.GetMaxByteCount(line.Length);
                    if (used + size > buffer.Length)
                    {
                        await _output.WriteAsync(buffer.AsMemory(0, used)).ConfigureAwait(false);
                        used = 0;
                        if (size > buffer.Length)
                            buffer = new byte[size];
                    }
                    used += Encoding.UTF8.GetBytes(line, buffer.AsSpan(used));
                }
                await _output.WriteAsync(buffer.AsMemory(0, used)).ConfigureAwait(false);
                await _output.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
            // Standard output is gone (a closed pipe): there is nowhere left to log to.
        }
    }

    /// <summary>Writes what is queued, then stops.</summary>
    public void Dispose()
    {
        _lines.Writer.TryComplete();
        _writer.Wait(TimeSpan.FromSeconds(5));
    }

    private sealed class MailLogger(MailLogProvider provider, string component) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            string message = formatter(state, exception);
            if (string.IsNullOrEmpty(message) && exception is null)
                return;
            provider.Enqueue(Format(DateTime.UtcNow, component, logLevel, message, exception));
        }
    }

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
