// RFC 3461 §4.3 (RET=FULL / RET=HDRS).
namespace FastSpool.Protocols.Smtp;

/// <summary>The MAIL <c>RET=</c> parameter: how much of the message a failure DSN returns.</summary>
public enum DsnReturn : byte
{
    /// <summary>No RET parameter: the reporting MTA chooses.</summary>
    Unspecified,

    /// <summary><c>RET=FULL</c>: the whole message.</summary>
    Full,

    /// <summary><c>RET=HDRS</c>: only the header section.</summary>
    Headers,
}
