using System.Net;

namespace FastSpool.Configuration;

/// <summary>Checks the options at start; every message names the configuration key.</summary>
public static class OptionsValidator
{
    public static List<string> Validate(FastSpoolOptions o)
    {
        var errors = new List<string>();
        CheckEndpoints("Smtp:Listen", o.Smtp.Listen, errors);
        CheckEndpoints("Smtp:Submission", o.Smtp.Submission, errors);
        CheckEndpoints("Smtp:SubmissionTls", o.Smtp.SubmissionTls, errors);
        CheckEndpoints("Metrics:Listen", o.Metrics.Listen, errors);
        CheckEndpoints("Pop3:Listen", o.Pop3.Listen, errors);
        CheckEndpoints("Pop3:ListenTls", o.Pop3.ListenTls, errors);
        foreach (string listen in o.Pop3.Listen ?? [])
        {
            if (TryParseEndpoint(listen, out IPEndPoint pop3) && (o.Smtp.Listen ?? []).Exists(s => TryParseEndpoint(s, out IPEndPoint smtp) && smtp.Equals(pop3)))
                errors.Add($"Pop3:Listen: '{listen}' is an SMTP endpoint too (Smtp:Listen); give POP3 a port of its own");
        }
        if (o.Pop3.Timeout < TimeSpan.FromMinutes(10))
            errors.Add("Pop3:Timeout: must be at least 10 minutes (RFC 1939 section 3)");
        if (o.Pop3.MaxConnections < 1)
            errors.Add("Pop3:MaxConnections: must be at least 1");
        if (o.Pop3.MaxConnectionsPerClient < 0)
            errors.Add("Pop3:MaxConnectionsPerClient: must not be negative (0 turns the limit off)");
        if (o.Pop3.LoginFailureDelay < TimeSpan.Zero || o.Pop3.LoginFailureDelay > TimeSpan.FromSeconds(30))
            errors.Add("Pop3:LoginFailureDelay: must be between 0 and 30 seconds");
        if (o.Pop3.MaxLoginFailures < 0)
            errors.Add("Pop3:MaxLoginFailures: must not be negative (0 turns the limit off)");
        foreach (string listen in o.Metrics.Listen ?? [])
        {
            if (TryParseEndpoint(listen, out IPEndPoint metrics) && (o.Smtp.Listen ?? []).Exists(s => TryParseEndpoint(s, out IPEndPoint smtp) && smtp.Equals(metrics)))
                errors.Add($"Metrics:Listen: '{listen}' is an SMTP endpoint too (Smtp:Listen); give the metrics a port of their own");
        }
        foreach (string domain in o.LocalDomains ?? [])
        {
            if (string.IsNullOrWhiteSpace(domain) || domain.Contains('@') || domain.Contains(' '))
                errors.Add($"LocalDomains: '{domain}' is not a domain name");
        }
        if (o.LogLevel is not ("Trace" or "Debug" or "Information" or "Warning" or "Error" or "Critical"))
            errors.Add($"LogLevel: '{o.LogLevel}' is not one of Trace, Debug, Information, Warning, Error, Critical");
        string data = Path.TrimEndingDirectorySeparator(o.DataDirectory) + Path.DirectorySeparatorChar;
        if (o.Sendmail.Socket is { } socket && socket.StartsWith(data, StringComparison.Ordinal))
            errors.Add($"Sendmail:Socket: {socket} is inside the data directory, which only the server's user may enter; put it outside (local users must reach it)");
        if (o.SharedMaildropDirectory is { } shared && (shared + "/").StartsWith(data, StringComparison.Ordinal))
            errors.Add($"Sendmail:SharedMaildrop: {shared} is inside the data directory, which only the server's user may enter; put it outside (local users must reach it), or say none");
        if (o.Sendmail.MaildropPollInterval < TimeSpan.Zero)
            errors.Add("Sendmail:MaildropPollInterval: must not be negative");
        if (o.Smtp.MaxMessageSize < 1024)
            errors.Add($"Smtp:MaxMessageSize: {o.Smtp.MaxMessageSize} is too small (at least 1024 octets)");
        if (o.Smtp.MaxRecipients < 1)
            errors.Add($"Smtp:MaxRecipients: must be at least 1 (RFC 5321 asks for 100)");
        if (o.StatisticsInterval < TimeSpan.Zero)
            errors.Add("StatisticsInterval: must not be negative (0 turns the statistics line off)");
        if (o.Smtp.Timeout <= TimeSpan.Zero)
            errors.Add("Smtp:Timeout: must be positive");
        if (o.Smtp.MinDataRate < 0)
            errors.Add("Smtp:MinDataRate: must not be negative");
        if (o.Smtp.MaxErrors < 1)
            errors.Add("Smtp:MaxErrors: must be at least 1");
        if (o.Smtp.MaxLineLength < 80)
            errors.Add("Smtp:MaxLineLength: must be at least 80");
        if (o.Smtp.MaxReceivedHeaders < 1)
            errors.Add("Smtp:MaxReceivedHeaders: must be at least 1");
        if (o.Smtp.GreetPause < TimeSpan.Zero || o.Smtp.GreetPause > TimeSpan.FromMinutes(1))
            errors.Add("Smtp:GreetPause: must be between 0 and 1 minute");
        if (o.Smtp.MaxConnections < 1)
            errors.Add("Smtp:MaxConnections: must be at least 1");
        if (o.Smtp.MaxConnectionsPerClient < 0)
            errors.Add("Smtp:MaxConnectionsPerClient: must not be negative (0 turns the limit off)");
        if (o.Smtp.ConnectionRatePerClient < 0)
            errors.Add("Smtp:ConnectionRatePerClient: must not be negative (0 turns the limit off)");
        // By default the exemptions are Relay:Networks, whose errors are reported under that key.
        foreach (string network in (o.Smtp.ConnectionLimitExemptions ?? []).Except(o.Relay.Networks ?? []))
        {
            if (!string.IsNullOrWhiteSpace(network) && !TryParseNetwork(network, out _))
                errors.Add($"Smtp:ConnectionLimitExemptions: '{network}' is not a network (use 192.0.2.0/24, 2001:db8::/32 or one address)");
        }
        if (o.Delivery.Concurrency is < 1 or > 256)
            errors.Add("Delivery:Concurrency: must be between 1 and 256");
        if (o.Delivery.BatchDelay < TimeSpan.Zero || o.Delivery.BatchDelay > TimeSpan.FromSeconds(1))
            errors.Add("Delivery:BatchDelay: must be between 0 and 1 second");
        if (o.Delivery.MaxBatch < 1)
            errors.Add("Delivery:MaxBatch: must be at least 1");
        if (o.Delivery.LockTimeout < TimeSpan.Zero)
            errors.Add("Delivery:LockTimeout: must not be negative");
        if (o.Delivery.RetryDelay <= TimeSpan.Zero)
            errors.Add("Delivery:RetryDelay: must be positive");
        if (o.Delivery.MaxRetryDelay < o.Delivery.RetryDelay)
            errors.Add("Delivery:MaxRetryDelay: must not be shorter than Delivery:RetryDelay");
        if (o.Delivery.ParsedMailboxMode is null)
            errors.Add($"Delivery:MailboxMode: '{o.Delivery.MailboxMode}' is not a mailbox mode (octal read and write bits with the owner's both, such as 0600 or 0660)");
        if (o.Users.SystemMinUid < 1)
            errors.Add("Users:SystemMinUid: must be at least 1 (root receives mail anyway)");
        if (o.Users.SystemMaxUid < o.Users.SystemMinUid)
            errors.Add("Users:SystemMaxUid: must not be below Users:SystemMinUid");
        if (o.Queue.MaxLifetime <= TimeSpan.Zero)
            errors.Add("Queue:MaxLifetime: must be positive");
        if (o.Queue.DelayWarning < TimeSpan.Zero)
            errors.Add("Queue:DelayWarning: must not be negative (0 turns delay notices off)");
        if (o.Queue.PageSizeBits is < 16 or > 28)
            errors.Add("Queue:PageSizeBits: must be between 16 and 28");
        if (o.Queue.PageSizeBits < 20)
            errors.Add("Queue:PageSizeBits: a page must hold a 256 KiB chunk (at least 20)");
        if (o.Queue.MemorySizeBits < o.Queue.PageSizeBits + 1)
            errors.Add("Queue:MemorySizeBits: must be at least Queue:PageSizeBits + 1");
        if (o.Queue.SegmentSizeBits < o.Queue.PageSizeBits || o.Queue.SegmentSizeBits > 32)
            errors.Add("Queue:SegmentSizeBits: must be between Queue:PageSizeBits and 32");
        // The envelope record (recipients, chunk list, the body's last chunk) must fit in one log page.
        long envelope = (o.Smtp.MaxRecipients * 258L) + (o.Smtp.MaxMessageSize / (256 * 1024) * 8) + (256 * 1024) + (8 * 1024);
        if (o.Queue.PageSizeBits is >= 16 and <= 28 && envelope > (1L << o.Queue.PageSizeBits))
            errors.Add($"Smtp:MaxRecipients: {o.Smtp.MaxRecipients} recipients do not fit in a queue page of 2^{o.Queue.PageSizeBits} bytes (raise Queue:PageSizeBits)");
        if (o.Queue.RecoveryInterval <= TimeSpan.Zero)
            errors.Add("Queue:RecoveryInterval: must be positive");
        if (o.Queue.CommitFileInterval < 1)
            errors.Add("Queue:CommitFileInterval: must be at least 1");
        if (o.Smtp.MaxAuthFailures < 0)
            errors.Add("Smtp:MaxAuthFailures: must not be negative (0 turns the limit off)");
        if (o.Smtp.AuthFailureDelay < TimeSpan.Zero || o.Smtp.AuthFailureDelay > TimeSpan.FromMinutes(1))
            errors.Add("Smtp:AuthFailureDelay: must be between 0 and 1 minute");
        ValidateTls(o, errors);
        ValidateRelay(o.Relay, errors);
        return errors;
    }

    private static void CheckEndpoints(string key, List<string>? endpoints, List<string> errors)
    {
        foreach (string listen in endpoints ?? [])
        {
            if (!TryParseEndpoint(listen, out _))
                errors.Add($"{key}: '{listen}' is not an endpoint (use 127.0.0.1:2525, [::1]:2525 or *:2525)");
        }
    }

    private static void ValidateTls(FastSpoolOptions o, List<string> errors)
    {
        TlsOptions tls = o.Tls;
        if ((tls.Certificate is null) != (tls.Key is null))
            errors.Add(tls.Certificate is null ? "Tls:Certificate: not set, but Tls:Key is (give both, or neither)" : "Tls:Key: not set, but Tls:Certificate is (give both, or neither)");
        CheckReadable("Tls:Certificate", tls.Certificate, errors);
        CheckReadable("Tls:Key", tls.Key, errors);
        if (!tls.Enabled && o.Smtp.SubmissionTls is { Count: > 0 })
            errors.Add("Smtp:SubmissionTls: implicit TLS needs a certificate (set Tls:Certificate and Tls:Key)");
        if (!tls.Enabled && o.Pop3.ListenTls is { Count: > 0 })
            errors.Add("Pop3:ListenTls: implicit TLS needs a certificate (set Tls:Certificate and Tls:Key)");
    }

    /// <summary>A file the server must read at start: missing and unreadable ones are named with their key.</summary>
    private static void CheckReadable(string key, string? path, List<string> errors)
    {
        if (path is null)
            return;
        try
        {
            using FileStream stream = File.OpenRead(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            errors.Add($"{key}: {path}: no such file");
        }
        catch (UnauthorizedAccessException)
        {
            errors.Add($"{key}: {path}: permission denied (the server's user must be able to read it)");
        }
        catch (IOException e)
        {
            errors.Add($"{key}: {path}: {e.Message}");
        }
    }

    private static void ValidateRelay(RelayOptions relay, List<string> errors)
    {
        foreach (string network in relay.Networks ?? [])
        {
            if (!string.IsNullOrWhiteSpace(network) && !TryParseNetwork(network, out _))
                errors.Add($"Relay:Networks: '{network}' is not a network (use 192.0.2.0/24, 2001:db8::/32 or one address)");
        }
        if (relay.Tls is not ("starttls" or "implicit" or "none"))
            errors.Add($"Relay:Tls: '{relay.Tls}' is not one of starttls, implicit, none");
        if (relay.Smarthost is not null && !RelayOptions.TryParseSmarthost(relay.Smarthost, relay.DefaultPort, out _, out _))
            errors.Add($"Relay:Smarthost: '{relay.Smarthost}' is not host[:port] (use smtp.isp.example:587, [smtp.isp.example]:587 or [192.0.2.1]:25)");
        if (relay.MaxConnections is < 1 or > 1000)
            errors.Add("Relay:MaxConnections: must be between 1 and 1000");
        if (relay.MessagesPerConnection < 1)
            errors.Add("Relay:MessagesPerConnection: must be at least 1");
        if (string.IsNullOrEmpty(relay.Username) != string.IsNullOrEmpty(relay.PasswordFile))
            errors.Add("Relay:Username and Relay:PasswordFile: give both, or neither");
        else if (relay.PasswordFile is not null && !File.Exists(relay.PasswordFile))
            errors.Add($"Relay:PasswordFile: {relay.PasswordFile}: no such file");
        if (relay.TrustedCertificate is not null && !File.Exists(relay.TrustedCertificate))
            errors.Add($"Relay:TrustedCertificate: {relay.TrustedCertificate}: no such file");
    }

    /// <summary>A network in CIDR notation, or one address (a network of one).</summary>
    public static bool TryParseNetwork(string text, out IPNetwork network)
    {
        text = text.Trim();
        if (IPNetwork.TryParse(text, out network))
            return true;
        if (!IPAddress.TryParse(text, out IPAddress? address))
            return false;
        network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        return true;
    }

    public static bool TryParseEndpoint(string text, out IPEndPoint endpoint)
    {
        endpoint = null!;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(text.AsSpan(colon + 1), out ushort port) || port == 0)
            return false;
        ReadOnlySpan<char> host = text.AsSpan(0, colon);
        if (host.Length >= 2 && host[0] == '[' && host[^1] == ']')
            host = host[1..^1];
        IPAddress? address;
        if (host is "*")
            address = IPAddress.IPv6Any;
        else if (host is "localhost")
            address = IPAddress.Loopback;
        else if (!IPAddress.TryParse(host, out address))
            return false;
        endpoint = new IPEndPoint(address, port);
        return true;
    }
}
