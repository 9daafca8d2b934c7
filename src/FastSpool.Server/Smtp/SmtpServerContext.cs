using System.Diagnostics.Metrics;
using System.Text;
using FastSpool.Configuration;
using FastSpool.Queue;
using FastSpool.Users;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Smtp;

/// <summary>What every SMTP session shares: options, precomputed reply bytes, the local recipient tables, the
/// queue (which hands committed messages to the queue manager).</summary>
internal sealed class SmtpServerContext
{
    public SmtpServerContext(FastSpoolOptions options, DomainSet domains, LocalRecipients recipients, MailQueue queue, ILoggerFactory loggers, TimeProvider time,
        IMeterFactory? meters = null)
    {
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
        _ehloReply = Ehlo(options.Smtp);
    }

    private volatile SmtpOptions _options;
    private volatile byte[] _ehloReply;
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
            _ehloReply = Ehlo(value);
            _options = value;
            Connections.Apply(value);
        }
    }

    private static byte[] Ehlo(SmtpOptions smtp) => Encoding.UTF8.GetBytes(
        $"250-{smtp.Hostname}\r\n250-PIPELINING\r\n250-SIZE {smtp.MaxMessageSize}\r\n" +
        "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-DSN\r\n250 CHUNKING\r\n");

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
    public byte[] EhloReply => _ehloReply;

    /// <summary>Cancelled when the server stops: sessions answer 421 and close.</summary>
    public CancellationToken Stopping { get; set; }
}
