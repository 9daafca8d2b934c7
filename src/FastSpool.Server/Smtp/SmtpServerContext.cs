using System.Diagnostics.Metrics;
using System.Text;
using FastSpool.Configuration;
using FastSpool.Queue;
using FastSpool.Server.Tls;
using FastSpool.Users;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Smtp;

/// <summary>What every SMTP session shares: options, precomputed reply bytes, the local recipient tables, the
/// queue (which hands committed messages to the queue manager).</summary>
internal sealed class SmtpServerContext
{
    public SmtpServerContext(FastSpoolOptions options, DomainSet domains, LocalRecipients recipients, MailQueue queue, ILoggerFactory loggers, TimeProvider time,
        IMeterFactory? meters = null, ServerCertificate? certificate = null, PasswordVerifier? credentials = null, LoginFailures? loginFailures = null)
    {
        Certificate = certificate;
        Credentials = credentials;
        _sharedFailures = loginFailures ?? new LoginFailures(time);
        _loginFailures = NewLoginFailures(_sharedFailures, options.Smtp);
        Metrics = new ServerMetrics(Statistics, meters);
        _options = options.Smtp;
        Recipients = recipients;
        Queue = queue;
        Logger = loggers.CreateLogger("smtpd");
        Time = time;
        Connections = new ConnectionLimiter(options.Smtp, time, Logger);
        Domains = domains;
        _relay = new RelayPolicy(options.Relay, domains);
        Hostname = Encoding.UTF8.GetBytes(options.Smtp.Hostname ?? "localhost");
        Greeting = Encoding.UTF8.GetBytes($"220 {options.Smtp.Hostname} ESMTP FastSpool\r\n");
        HeloReply = Encoding.UTF8.GetBytes($"250 {options.Smtp.Hostname}\r\n");
        _ehloReplies = Ehlo(options.Smtp);
    }

    private volatile SmtpOptions _options;
    private volatile byte[][] _ehloReplies;
    private readonly LoginFailures _sharedFailures;
    private volatile LoginFailureLimit _loginFailures;
    private volatile RelayPolicy _relay;

    /// <summary>Who may relay; a reload replaces it (Relay:Networks), and each RCPT asks the one in effect.</summary>
    public RelayPolicy Relay
    {
        get => _relay;
        set => _relay = value;
    }

    /// <summary>The limits sessions read; a reload replaces them (new sessions, and open ones at their next check).</summary>
    public SmtpOptions Options
    {
        get => _options;
        set
        {
            _ehloReplies = Ehlo(value);
            // New limits on the same count: a reload forgives no one.
            if (value.MaxAuthFailures != _options.MaxAuthFailures || value.AuthFailureDelay != _options.AuthFailureDelay)
                _loginFailures = NewLoginFailures(_sharedFailures, value);
            _options = value;
            Connections.Apply(value);
        }
    }

    /// <summary>The EHLO reply, with STARTTLS (RFC 3207 §4: only before TLS) and AUTH (RFC 4954 §3) as the session
    /// may use them, SCRAM-SHA-256-PLUS among the mechanisms over TLS with a channel binding; the forms are made once.</summary>
    public byte[] EhloReply(bool startTls, bool auth, bool plus = false) =>
        _ehloReplies[(startTls ? 2 : 0) | (auth ? 1 : 0) | (auth && plus ? 4 : 0)];

    private static byte[][] Ehlo(SmtpOptions smtp)
    {
        var replies = new byte[8][];
        for (int i = 0; i < 8; i++)
        {
            replies[i] = Encoding.UTF8.GetBytes(
                $"250-{smtp.Hostname}\r\n250-PIPELINING\r\n250-SIZE {smtp.MaxMessageSize}\r\n" +
                ((i & 2) != 0 ? "250-STARTTLS\r\n" : "") +
                ((i & 1) != 0 ? "250-AUTH PLAIN LOGIN SCRAM-SHA-256" + ((i & 4) != 0 ? " SCRAM-SHA-256-PLUS" : "") + "\r\n" : "") +
                "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-DSN\r\n250 CHUNKING\r\n");
        }
        return replies;
    }

    // A client's failures are remembered 10 minutes after its last; each delay doubles, up to 16 times the first.
    private static LoginFailureLimit NewLoginFailures(LoginFailures shared, SmtpOptions smtp) =>
        new(shared, smtp.MaxAuthFailures, smtp.AuthFailureDelay, smtp.AuthFailureDelay * 16, TimeSpan.FromMinutes(10));

    /// <summary>The server's certificate; null: no STARTTLS, no implicit TLS.</summary>
    public ServerCertificate? Certificate { get; }

    /// <summary>The users' passwords; null: no AUTH (a context made without users).</summary>
    public PasswordVerifier? Credentials { get; }

    /// <summary>Failed logins per client address, SMTP AUTH's and POP3's in one count, under SMTP's limits
    /// (<c>Smtp:MaxAuthFailures</c>, <c>Smtp:AuthFailureDelay</c>).</summary>
    public LoginFailureLimit LoginFailures => _loginFailures;

    /// <summary>Whether a connection that reached the server on a loopback address may use AUTH without TLS: its
    /// password never left the host. Tests of the refusal turn this off, as loopback is all they can listen on.</summary>
    internal bool PlaintextAuthOnLoopback { get; set; } = true;

    public LocalRecipients Recipients { get; }
    public MailQueue Queue { get; }
    public ILogger Logger { get; }
    public TimeProvider Time { get; }
    public ServerStatistics Statistics { get; } = new();
    public ServerMetrics Metrics { get; }
    public ConnectionLimiter Connections { get; }
    public DomainSet Domains { get; }
    public byte[] Hostname { get; }
    public byte[] Greeting { get; }
    public byte[] HeloReply { get; }

    /// <summary>Cancelled when the server stops: sessions answer 421 and close.</summary>
    public CancellationToken Stopping { get; set; }
}
