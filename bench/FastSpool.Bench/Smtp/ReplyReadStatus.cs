namespace FastSpool.Bench.Smtp;

internal enum ReplyReadStatus
{
    /// <summary>No complete reply yet; read more.</summary>
    Incomplete,
    Complete,

    /// <summary>Not an SMTP reply (no code, or lines with different codes).</summary>
    Malformed,
}
