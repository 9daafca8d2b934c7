namespace FastSpool.Queue;

/// <summary>RFC 3461 RET: what a failure notice returns of the message. Unspecified returns the headers.</summary>
public enum ReturnContent : byte
{
    Unspecified = 0,
    Full = 1,
    Headers = 2,
}
