using System.Text;
using FastSpool.Configuration;
using FastSpool.Delivery.Local;
using FastSpool.Delivery.Mbox;
using FastSpool.Server.Smtp;
using FastSpool.Server.Tls;
using FastSpool.Users;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Pop3;

/// <summary>What every POP3 session shares: options, reply octets, the users, the mailboxes and their holds.</summary>
internal sealed class Pop3ServerContext
{
    public Pop3ServerContext(FastSpoolOptions options, UserStore users, Func<string, MailboxOwner> ownerOf, LocalTransport? local,
        MailboxHolders holders, LoginFailureLimit loginFailures, ILoggerFactory loggers, TimeProvider time, ServerCertificate? certificate = null,
        System.Diagnostics.Metrics.IMeterFactory? meters = null)
    {
        Certificate = certificate;
        Metrics = new Pop3Metrics(meters);
        Options = options.Pop3;
        Users = users;
        OwnerOf = ownerOf;
        Local = local;
        Holders = holders;
        LoginFailures = loginFailures;
        Logger = loggers.CreateLogger("pop3d");
        Time = time;
        MailDirectory = options.Delivery.MailDirectory!;
        IndexDirectory = options.MaildropIndexDirectory;
        MailboxMode = options.Delivery.ParsedMailboxMode ?? MailboxFile.DefaultMode;
        LockTimeout = options.Delivery.LockTimeout;
        Connections = new ConnectionLimiter("Pop3", "-ERR", time, Logger);
        Connections.Apply(Options.MaxConnections, Options.MaxConnectionsPerClient, 0, null);
        Greeting = Encoding.ASCII.GetBytes($"+OK {options.Smtp.Hostname} FastSpool POP3 server ready\r\n");
        CapabilitiesWithLogin = Capabilities(login: true, stls: false);
        CapabilitiesWithoutLogin = Capabilities(login: false, stls: false);
        CapabilitiesWithLoginAndStls = Capabilities(login: true, stls: true);
        CapabilitiesWithoutLoginWithStls = Capabilities(login: false, stls: true);
    }

    // RFC 2449 §6. EXPIRE NEVER: FastSpool deletes nothing on its own; LOGIN-DELAY 0: it asks no wait between logins.
    // RFC 2595 §4: STLS, before TLS only.
    private static byte[] Capabilities(bool login, bool stls) => Encoding.ASCII.GetBytes(
        "+OK capability list follows\r\nTOP\r\nUIDL\r\n" + (login ? "USER\r\nSASL PLAIN\r\n" : "") + (stls ? "STLS\r\n" : "")
        + "RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nLOGIN-DELAY 0\r\nIMPLEMENTATION FastSpool\r\n.\r\n");

    /// <summary>The certificate of STLS and of <c>Pop3:ListenTls</c>; null: no TLS.</summary>
    public ServerCertificate? Certificate { get; }

    /// <summary>The POP3 instruments (sessions, logins, messages retrieved and deleted).</summary>
    public Pop3Metrics Metrics { get; }

    public Pop3Options Options { get; }
    public UserStore Users { get; }
    public Func<string, MailboxOwner> OwnerOf { get; }

    /// <summary>Delivery's local transport: interrupted appends are checked before a maildrop is opened.</summary>
    public LocalTransport? Local { get; }
    public MailboxHolders Holders { get; }
    /// <summary>Failed logins per client address, SMTP AUTH's and POP3's in one count, under POP3's limits
    /// (<c>Pop3:MaxLoginFailures</c>, <c>Pop3:LoginFailureDelay</c>).</summary>
    public LoginFailureLimit LoginFailures { get; }
    public ILogger Logger { get; }
    public TimeProvider Time { get; }
    public string MailDirectory { get; }
    public string IndexDirectory { get; }
    public UnixFileMode MailboxMode { get; }
    public TimeSpan LockTimeout { get; }
    public ConnectionLimiter Connections { get; }
    public byte[] Greeting { get; }

    /// <summary>CAPA where a login is allowed (USER and SASL PLAIN listed), and where it is not.</summary>
    public byte[] CapabilitiesWithLogin { get; }
    public byte[] CapabilitiesWithoutLogin { get; }

    /// <summary>The same before TLS where a certificate is configured: STLS listed.</summary>
    public byte[] CapabilitiesWithLoginAndStls { get; }
    public byte[] CapabilitiesWithoutLoginWithStls { get; }

    /// <summary>Cancelled when the server stops.</summary>
    public CancellationToken Stopping { get; set; }

    public string MailboxPath(string user) => Path.Combine(MailDirectory, user);

    public string IndexPath(string user) => Path.Combine(IndexDirectory, user + ".index");
}
