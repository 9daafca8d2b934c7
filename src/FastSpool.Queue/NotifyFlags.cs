namespace FastSpool.Queue;

/// <summary>RFC 3461 NOTIFY of a recipient, and which notices were sent. None: NOTIFY was not given, which means
/// FAILURE (and DELAY, if delay notices are on), as RFC 3461 §4.1 leaves to the MTA.</summary>
[Flags]
public enum NotifyFlags : byte
{
    None = 0,
    Never = 1,
    Success = 2,
    Failure = 4,
    Delay = 8,
}
