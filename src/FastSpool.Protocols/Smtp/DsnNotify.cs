// RFC 3461 §4.1 (NOTIFY=NEVER / NOTIFY=SUCCESS,FAILURE,DELAY).
namespace FastSpool.Protocols.Smtp;

/// <summary>The RCPT <c>NOTIFY=</c> parameter: which events get a DSN for this recipient. <see cref="Never"/>
/// is never combined with another value.</summary>
[Flags]
public enum DsnNotify : byte
{
    /// <summary>No NOTIFY parameter: the default, failures (and perhaps delays) are reported.</summary>
    None = 0,

    Never = 1,
    Success = 2,
    Failure = 4,
    Delay = 8,
}
