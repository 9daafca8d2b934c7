using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace FastSpool.Server.Logging;

/// <summary>One grep-able line per event, like Postfix's mail log:
/// <c>2026-11-24T17:02:50.123Z smtpd info: connect from [127.0.0.1]:41234</c>.</summary>
internal sealed class MailLogFormatter : ConsoleFormatter
{
    public const string FormatterName = "fastspool";

    public MailLogFormatter() : base(FormatterName) { }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        string message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
            return;
        textWriter.Write(DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        textWriter.Write(' ');
        textWriter.Write(ShortCategory(logEntry.Category));
        textWriter.Write(' ');
        textWriter.Write(Level(logEntry.LogLevel));
        textWriter.Write(": ");
        textWriter.Write(message.ReplaceLineEndings(" "));
        if (logEntry.Exception is not null)
        {
            textWriter.Write(" (");
            textWriter.Write(logEntry.Exception.GetType().Name);
            textWriter.Write(": ");
            textWriter.Write(logEntry.Exception.Message.ReplaceLineEndings(" "));
            textWriter.Write(')');
        }
        textWriter.Write('\n');
    }

    private static string ShortCategory(string category)
    {
        int dot = category.LastIndexOf('.');
        return dot < 0 ? category : category[(dot + 1)..];
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
