namespace FastSpool.Configuration;

/// <summary>The whole configuration, bound from the JSON file, FASTSPOOL__ environment variables and
/// --Section:Key=value arguments. Lists are null until bound so that configured lists replace the defaults
/// instead of being merged into them; <see cref="ApplyDefaults"/> fills what is left.</summary>
public sealed class FastSpoolOptions
{
    public string DataDirectory { get; set; } = "./var";

    public List<string>? LocalDomains { get; set; }

    public SmtpOptions Smtp { get; set; } = new();

    public Pop3Options Pop3 { get; set; } = new();

    public DeliveryOptions Delivery { get; set; } = new();

    public UsersOptions Users { get; set; } = new();

    public QueueOptions Queue { get; set; } = new();

    public MetricsOptions Metrics { get; set; } = new();

    public RelayOptions Relay { get; set; } = new();

    public TlsOptions Tls { get; set; } = new();

    public SendmailOptions Sendmail { get; set; } = new();

    /// <summary>Least severe log level written: Trace, Debug, Information (one line per event), Warning, Error.</summary>
    public string LogLevel { get; set; } = "Information";

    /// <summary>How often a <c>statistics:</c> line (connections, messages accepted, memory allocated) is logged;
    /// zero: never. One more is logged when the server stops.</summary>
    public TimeSpan StatisticsInterval { get; set; } = TimeSpan.FromMinutes(10);

    public string AliasesPath => Path.Combine(DataDirectory, "aliases");

    public string QueueDirectory => Path.Combine(DataDirectory, "queue");

    /// <summary>Where the POP3 server keeps each mbox's index: in the private data directory, not beside the
    /// mailboxes, which users and their MUAs may reach.</summary>
    public string MaildropIndexDirectory => Path.Combine(DataDirectory, "pop3");

    /// <summary>The admin endpoint's Unix socket, through which the queue verbs reach the running server.</summary>
    public string ControlSocketPath => Path.Combine(DataDirectory, "control.sock");

    /// <summary>Where <c>sendmail</c> drops messages while the server is not running (Postfix's maildrop).</summary>
    public string MaildropDirectory => Path.Combine(DataDirectory, "maildrop");

    /// <summary><see cref="SendmailOptions.SharedMaildrop"/>, or null when it is <c>none</c>.</summary>
    public string? SharedMaildropDirectory => Sendmail.SharedMaildrop is { } path && !path.Equals("none", StringComparison.OrdinalIgnoreCase) ? path : null;

    public void ApplyDefaults()
    {
        DataDirectory = Path.GetFullPath(string.IsNullOrWhiteSpace(DataDirectory) ? "./var" : DataDirectory);
        Sendmail.Socket = Path.GetFullPath(string.IsNullOrWhiteSpace(Sendmail.Socket)
            ? Path.TrimEndingDirectorySeparator(DataDirectory) + ".sendmail.sock"
            : Sendmail.Socket);
        if (string.IsNullOrWhiteSpace(Sendmail.SharedMaildrop))
            Sendmail.SharedMaildrop = Path.TrimEndingDirectorySeparator(DataDirectory) + ".maildrop";
        else if (!Sendmail.SharedMaildrop.Equals("none", StringComparison.OrdinalIgnoreCase))
            Sendmail.SharedMaildrop = Path.GetFullPath(Sendmail.SharedMaildrop);
        // Enum values are case-insensitive, as the binder takes them; the validator then checks the one spelling.
        if (Enum.TryParse(LogLevel, ignoreCase: true, out Microsoft.Extensions.Logging.LogLevel level) && Enum.IsDefined(level)
            && !char.IsAsciiDigit(LogLevel.TrimStart()[0]))
            LogLevel = level.ToString();
        string machine = MachineName();
        if (LocalDomains is null || LocalDomains.Count == 0)
            LocalDomains = machine == "localhost" ? ["localhost"] : ["localhost", machine];
        if (Smtp.Listen is null || Smtp.Listen.Count == 0)
            Smtp.Listen = ["127.0.0.1:2525"];
        Smtp.Submission ??= [];
        Smtp.SubmissionTls ??= [];
        if (string.IsNullOrWhiteSpace(Tls.Certificate))
            Tls.Certificate = null;
        if (string.IsNullOrWhiteSpace(Tls.Key))
            Tls.Key = null;
        if (Pop3.Listen is null || Pop3.Listen.Count == 0)
            Pop3.Listen = ["127.0.0.1:1110"];
        Pop3.ListenTls ??= [];
        Metrics.Listen ??= [];
        Relay.Networks ??= ["127.0.0.0/8", "::1/128"];
        // The trusted networks are exempt from the per-client limits unless the limits say otherwise (Postfix's
        // mynetworks and anvil).
        Smtp.ConnectionLimitExemptions ??= [.. Relay.Networks];
        if (string.IsNullOrWhiteSpace(Relay.Smarthost))
            Relay.Smarthost = null;
        Relay.Tls = (Relay.Tls ?? "starttls").Trim().ToLowerInvariant();
        if (string.IsNullOrWhiteSpace(Smtp.Hostname))
            Smtp.Hostname = machine;
        Delivery.MailDirectory = Path.GetFullPath(string.IsNullOrWhiteSpace(Delivery.MailDirectory)
            ? Path.Combine(DataDirectory, "mail")
            : Delivery.MailDirectory);
    }

    public static string MachineName()
    {
        try
        {
            string name = System.Net.Dns.GetHostName();
            return string.IsNullOrWhiteSpace(name) ? "localhost" : name.ToLowerInvariant();
        }
        catch (System.Net.Sockets.SocketException)
        {
            return "localhost";
        }
    }
}
