namespace FastSpool.Cli;

/// <summary>The configuration is wrong; the message names the key or argument.</summary>
internal sealed class SettingsException : Exception
{
    public SettingsException(string message) : base(message) { }
    public SettingsException(string message, Exception inner) : base(message, inner) { }
    public SettingsException() { }
}
