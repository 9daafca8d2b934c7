namespace FastSpool.Configuration;

/// <summary>Configuration section <c>Smtp</c>.</summary>
public sealed class SmtpOptions
{
    /// <summary>Endpoints to listen on: <c>127.0.0.1:2525</c>, <c>[::1]:2525</c>, <c>*:25</c>.</summary>
    public List<string>? Listen { get; set; }

    /// <summary>Submission endpoints (RFC 6409, port 587): STARTTLS and AUTH before MAIL; authenticated users may
    /// send to any domain.</summary>
    public List<string>? Submission { get; set; }

    /// <summary>Submission endpoints with implicit TLS (RFC 8314, port 465): TLS from the first octet, then as
    /// <see cref="Submission"/>. Needs <c>Tls:Certificate</c>.</summary>
    public List<string>? SubmissionTls { get; set; }

    /// <summary>Offer and accept AUTH without TLS on listeners that are not loopback (passwords in clear).</summary>
    public bool AllowPlaintextAuth { get; set; }

    /// <summary>Failed AUTH attempts from one client address (across connections, within 10 minutes of the last) after
    /// which it gets <c>421</c> and is closed until the window has passed; 0: no limit.</summary>
    public int MaxAuthFailures { get; set; } = 10;

    /// <summary>The wait before a failed AUTH is answered; it doubles with each further failure from the same address,
    /// up to 16 times this.</summary>
    public TimeSpan AuthFailureDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>On submission listeners, MAIL FROM must be the authenticated user's own address (its name at a local
    /// domain) or the null sender.</summary>
    public bool SenderLoginMatch { get; set; }

    /// <summary>Write <c>(Authenticated sender: NAME)</c> into the Received header of mail from an authenticated
    /// client, as Postfix does.</summary>
    public bool ReceivedAuthenticatedSender { get; set; } = true;

    /// <summary>Write <c>(using TLSv1.3 with cipher ... (256/256 bits))</c> into the Received header of mail that came
    /// over TLS, as Postfix does with smtpd_tls_received_header.</summary>
    public bool ReceivedTlsCipher { get; set; } = true;

    /// <summary>Name in the greeting, EHLO reply and Received headers.</summary>
    public string? Hostname { get; set; }

    /// <summary>Largest message accepted, in octets (SIZE, RFC 1870).</summary>
    public long MaxMessageSize { get; set; } = 36_700_160;

    public int MaxRecipients { get; set; } = 1000;

    /// <summary>How long a command line may take, from the reply before it to its CRLF, and how long to wait for more
    /// message data (RFC 5321 §4.5.3.2: at least 5 minutes). The octets of a line do not restart it.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>While a message is read, the client must keep at least this rate (octets per second) after the
    /// first <see cref="Timeout"/>; a trickling client is cut off like an idle one. A BDAT message is timed from its
    /// first chunk to its last, chunk headers and the gaps between chunks included.</summary>
    public int MinDataRate { get; set; } = 500;

    /// <summary>Errors in one session before it is ended with 421 4.7.0.</summary>
    public int MaxErrors { get; set; } = 20;

    /// <summary>Longest text line in a message, counting CRLF (RFC 5321 §4.5.3.1.6).</summary>
    public int MaxLineLength { get; set; } = 1000;

    /// <summary>Most Received headers a message may carry before it is refused as a mail loop.</summary>
    public int MaxReceivedHeaders { get; set; } = 50;

    /// <summary>Wait this long before the greeting; a client that talks before it is refused (it is not waiting
    /// for the reply, as spam engines do not).</summary>
    public TimeSpan GreetPause { get; set; } = TimeSpan.Zero;

    /// <summary>Concurrent connections; one more is answered <c>421 4.7.0</c> and closed.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Concurrent connections from one client address (Postfix's smtpd_client_connection_count_limit);
    /// 0: no limit.</summary>
    public int MaxConnectionsPerClient { get; set; } = 50;

    /// <summary>New connections per minute from one client address (Postfix's smtpd_client_connection_rate_limit);
    /// 0: no limit.</summary>
    public int ConnectionRatePerClient { get; set; }

    /// <summary>Networks (CIDR, or single addresses) that the per-client limits do not apply to, as Postfix exempts
    /// mynetworks; null until bound, then loopback. Empty entries are skipped, so one empty entry exempts nobody.</summary>
    public List<string>? ConnectionLimitExemptions { get; set; }
}
