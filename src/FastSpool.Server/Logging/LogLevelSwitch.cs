using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Logging;

/// <summary>The mail log's least severe level, which a reload may change while the server runs. Every logger of a
/// factory made by <see cref="FastSpoolServer.CreateLoggerFactory"/> asks it on each <c>IsEnabled</c>.</summary>
internal sealed class LogLevelSwitch(LogLevel minimum)
{
    private static readonly ConditionalWeakTable<ILoggerFactory, LogLevelSwitch> Switches = [];

    private volatile int _minimum = (int)minimum;

    public LogLevel Minimum
    {
        get => (LogLevel)_minimum;
        set => _minimum = (int)value;
    }

    public static void Attach(ILoggerFactory factory, LogLevelSwitch level) => Switches.AddOrUpdate(factory, level);

    /// <summary>The switch of <paramref name="factory"/>, or null for a factory made elsewhere.</summary>
    public static LogLevelSwitch? Of(ILoggerFactory factory) => Switches.TryGetValue(factory, out LogLevelSwitch? level) ? level : null;
}
