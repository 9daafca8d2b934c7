namespace FastSpool.Cli;

/// <summary>The running server could not be asked, or answered with an error: <see cref="Exception.Message"/> is the
/// line for the user, <see cref="ExitCode"/> the sysexits code that says why.</summary>
internal sealed class AdminException : Exception
{
    public AdminException(int exitCode, string message) : base(message) => ExitCode = exitCode;

    public AdminException(int exitCode, string message, Exception inner) : base(message, inner) => ExitCode = exitCode;

    public AdminException() { }

    public AdminException(string message) : base(message) { }

    public AdminException(string message, Exception inner) : base(message, inner) { }

    public int ExitCode { get; } = Cli.ExitCode.Software;
}
