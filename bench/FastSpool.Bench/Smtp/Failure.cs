namespace FastSpool.Bench.Smtp;

/// <summary>
/// Outcomes that are not reply codes, as negative numbers beside the codes (100..599), so that a message's outcome
/// is one int and no exception or string is made for it.
/// </summary>
internal static class Failure
{
    /// <summary>The connection could not be made.</summary>
    public const int Connect = -1;

    /// <summary>The server closed the connection or it broke.</summary>
    public const int Io = -2;

    /// <summary>No reply (or no progress writing) within the timeout.</summary>
    public const int Timeout = -3;

    /// <summary>A reply that is not SMTP.</summary>
    public const int Protocol = -4;

    public static string Name(int outcome) => outcome switch
    {
        Connect => "connect",
        Io => "io",
        Timeout => "timeout",
        Protocol => "protocol",
        _ => outcome.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
