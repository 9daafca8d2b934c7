namespace FastSpool.Protocols.Smtp;

/// <summary>What <see cref="SmtpReplyParser.TryReadReply"/> found.</summary>
public enum ReplyReadStatus
{
    /// <summary>No complete reply yet; read more.</summary>
    Incomplete,
    Complete,

    /// <summary>Not an SMTP reply (no code, or lines with different codes).</summary>
    Malformed,
}
