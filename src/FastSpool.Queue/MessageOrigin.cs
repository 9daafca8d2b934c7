namespace FastSpool.Queue;

/// <summary>The door a message came in by (Postfix's cleanup records the same for its log).</summary>
public enum MessageOrigin : byte
{
    Smtp = 1,
    Sendmail = 2,
    Fetch = 3,

    /// <summary>A delivery status notification made by this server (null sender).</summary>
    Bounce = 4,

    /// <summary>A copy sent on by a filter or an alias.</summary>
    Forward = 5,
}
