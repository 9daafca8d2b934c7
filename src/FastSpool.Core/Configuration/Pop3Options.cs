namespace FastSpool.Configuration;

/// <summary>Configuration section <c>Pop3</c>: the POP3 server (RFC 1939) through which users collect their mbox.</summary>
public sealed class Pop3Options
{
    /// <summary>Endpoints to listen on, as in <c>Smtp:Listen</c>; null until bound, then <c>127.0.0.1:1110</c>.</summary>
    public List<string>? Listen { get; set; }

    /// <summary>Endpoints with TLS from the first octet (port 995, RFC 8314); they need <c>Tls:Certificate</c>. The
    /// plain endpoints offer STLS (RFC 2595) once a certificate is configured.</summary>
    public List<string>? ListenTls { get; set; }

    /// <summary>The autologout timer (RFC 1939 §3: at least 10 minutes): a client idle this long, or one that does
    /// not read its replies, is disconnected without an UPDATE.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Concurrent POP3 connections; one more is answered <c>-ERR [SYS/TEMP]</c> and closed.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>Concurrent connections from one client address; 0: no limit.</summary>
    public int MaxConnectionsPerClient { get; set; } = 20;

    /// <summary>Whether USER/PASS and AUTH PLAIN may be used on a connection without TLS. Null (the default): yes on
    /// connections to a loopback address, no on any other, so that no password crosses a network in clear.</summary>
    public bool? AllowPlaintextWithoutTls { get; set; }

    /// <summary>The delay before a failed login is answered; it doubles with each failure of the client, up to
    /// 30 seconds.</summary>
    public TimeSpan LoginFailureDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Failed logins from one client address within 15 minutes before it is refused until they have passed;
    /// 0: no limit.</summary>
    public int MaxLoginFailures { get; set; } = 10;
}
