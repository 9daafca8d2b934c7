namespace FastSpool.Configuration;

/// <summary>Configuration section <c>Smtp</c>.</summary>
public sealed class SmtpOptions
{
    /// <summary>Endpoints to listen on: <c>127.0.0.1:2525</c>, <c>[::1]:2525</c>, <c>*:25</c>.</summary>
    public List<string>? Listen { get; set; }

    /// <summary>Name in the greeting, EHLO reply and Received headers.</summary>
    public string? Hostname { get; set; }

    /// <summary>Largest message accepted, in octets (SIZE, RFC 1870).</summary>
    public long MaxMessageSize { get; set; } = 36_700_160;

    public int MaxRecipients { get; set; } = 1000;

    /// <summary>How long to wait for a command or for more data (RFC 5321 §4.5.3.2: at least 5 minutes).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>While DATA or BDAT is read, the client must keep at least this rate (octets per second) after the
    /// first <see cref="Timeout"/>; a trickling client is cut off like an idle one.</summary>
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

    public int MaxConnections { get; set; } = 10_000;
}
