namespace FastSpool.Delivery.Relay;

/// <summary>How long the relay client waits for each step (RFC 5321 §4.5.3.2 where it names one; Postfix's smtp(8)
/// defaults for the steps it does not). Every wait runs on the transport's <see cref="TimeProvider"/>.</summary>
public sealed record RelayTimeouts
{
    /// <summary>The TCP connection (Postfix's smtp_connect_timeout).</summary>
    public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>§4.5.3.2.1: the 220 greeting.</summary>
    public TimeSpan Greeting { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>EHLO, HELO, STARTTLS and the TLS handshake, AUTH, RSET and QUIT (Postfix: 300 s).</summary>
    public TimeSpan Command { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>§4.5.3.2.2 and .3: the replies to MAIL and to each RCPT.</summary>
    public TimeSpan MailRcpt { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>§4.5.3.2.4: the 354 to DATA.</summary>
    public TimeSpan DataInitiation { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>§4.5.3.2.5: each block of message text sent (a server that stops reading).</summary>
    public TimeSpan DataBlock { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>§4.5.3.2.6: the reply to the final dot (or to BDAT LAST).</summary>
    public TimeSpan DataTermination { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an idle connection is kept for the next message (Postfix's smtp_connection_cache_time_limit).</summary>
    public TimeSpan CacheIdle { get; init; } = TimeSpan.FromSeconds(2);
}
