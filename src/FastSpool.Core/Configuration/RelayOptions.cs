namespace FastSpool.Configuration;

/// <summary>Configuration section <c>Relay</c>: who may send mail to any domain, and the smarthost that such mail is
/// handed to (sendmail's SMART_HOST, Postfix's relayhost and mynetworks).</summary>
public sealed class RelayOptions
{
    /// <summary>The upstream SMTP server, <c>host[:port]</c> or <c>[host][:port]</c>; null: mail for other domains is
    /// refused. No MX lookup is made either way: the host is resolved by its A/AAAA records.</summary>
    public string? Smarthost { get; set; }

    /// <summary>Clients (CIDR, or single addresses) trusted to send mail to any domain; null until bound, then
    /// loopback. Empty entries are skipped, so one empty entry trusts nobody.</summary>
    public List<string>? Networks { get; set; }

    /// <summary><c>starttls</c> (a smarthost without STARTTLS is a temporary failure), <c>implicit</c> (TLS from
    /// the first octet, port 465) or <c>none</c> (everything in clear).</summary>
    public string Tls { get; set; } = "starttls";

    /// <summary>Check the smarthost's certificate: its chain and that it names the host.</summary>
    public bool VerifyCertificate { get; set; } = true;

    /// <summary>A PEM file of certificates to trust for the smarthost besides the system's: a private CA, or the
    /// smarthost's own self-signed certificate.</summary>
    public string? TrustedCertificate { get; set; }

    /// <summary>The name for AUTH (PLAIN or LOGIN); null: no AUTH.</summary>
    public string? Username { get; set; }

    /// <summary>A file whose first line is the password for <see cref="Username"/>; read at each new connection.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>Connections to the smarthost at once.</summary>
    public int MaxConnections { get; set; } = 20;

    /// <summary>Messages sent over one connection before it is closed and a new one opened.</summary>
    public int MessagesPerConnection { get; set; } = 100;

    /// <summary>The default port: 465 for implicit TLS, else 25.</summary>
    public int DefaultPort => Tls.Equals("implicit", StringComparison.OrdinalIgnoreCase) ? 465 : 25;

    /// <summary>Splits <see cref="Smarthost"/>: <c>host</c>, <c>host:587</c>, <c>[host]:587</c>, <c>[192.0.2.1]</c>,
    /// <c>[2001:db8::1]:587</c>. The brackets (Postfix's "no MX lookup") change nothing here: there is never one.</summary>
    public static bool TryParseSmarthost(string text, int defaultPort, out string host, out int port)
    {
        host = "";
        port = defaultPort;
        text = text.Trim();
        ReadOnlySpan<char> rest;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 2)
                return false;
            host = text[1..close];
            rest = text.AsSpan(close + 1);
        }
        else
        {
            int colon = text.IndexOf(':');
            if (colon >= 0 && text.LastIndexOf(':') != colon)
                return false; // a bare IPv6 address must be written in brackets
            host = colon < 0 ? text : text[..colon];
            rest = colon < 0 ? default : text.AsSpan(colon);
        }
        if (!rest.IsEmpty)
        {
            if (rest[0] != ':' || !ushort.TryParse(rest[1..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ushort p) || p == 0)
                return false;
            port = p;
        }
        return host.Length is > 0 and <= 255 && !host.Contains(' ') && !host.Contains('@');
    }
}
