using FastSpool.Logging;
using FastSpool.Metrics;
using FastSpool.Posix;
using System.Net;
using FastSpool.Configuration;
using FastSpool.Delivery.Control;
using FastSpool.Queue;
using FastSpool.Delivery.Local;
using FastSpool.Delivery.Maildrop;
using FastSpool.Delivery.Mbox;
using FastSpool.Delivery.Relay;
using FastSpool.Delivery.Routing;
using FastSpool.Delivery.Scheduling;
using FastSpool.Server.Admin;
using FastSpool.Server.Logging;
using FastSpool.Server.Metrics;
using FastSpool.Server.Pop3;
using FastSpool.Server.Sendmail;
using FastSpool.Server.Smtp;
using FastSpool.Server.Tls;
using FastSpool.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server;

/// <summary>The running server: the queue, the queue manager and the SMTP listeners on Kestrel, in one process.</summary>
public sealed class FastSpoolServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServerLock _lock;
    private readonly MailQueue _queue;
    private readonly QueueManager _manager;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ServerStatistics _statisticsCounters;
    private readonly ServerMetrics _metrics;
    private readonly MetricsCollector? _collector;
    private readonly ILogger _log;
    private Task _statistics = Task.CompletedTask;
    private Task _fileChecks = Task.CompletedTask;

    private FastSpoolServer(WebApplication app, ServerLock serverLock, MailQueue queue, QueueManager manager, LocalRecipients recipients,
        SmtpServerContext smtp, MetricsCollector? collector, ILogger log)
    {
        Smtp = smtp;
        _statisticsCounters = smtp.Statistics;
        _metrics = smtp.Metrics;
        _collector = collector;
        _log = log;
        Recipients = recipients;
        _app = app;
        _lock = serverLock;
        _queue = queue;
        _manager = manager;
    }

    /// <summary>Opens the data directory (lock, queue recovery), then binds the listeners. Throws with a message
    /// for the admin when something stops it from starting.</summary>
    public static Task<FastSpoolServer> StartAsync(FastSpoolOptions options, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default) =>
        StartAsync(options, loggers, decorateLog: null, cancellationToken);

    /// <param name="decorateLog">Wraps the queue log; tests use it to inject faults a real disk cannot produce on demand.</param>
    internal static async Task<FastSpoolServer> StartAsync(FastSpoolOptions options, ILoggerFactory? loggers, Func<IQueueLog, IQueueLog>? decorateLog, CancellationToken cancellationToken = default)
    {
        CreateDataDirectory(options.DataDirectory);
        ILoggerFactory? ownLoggers = loggers is null ? CreateLoggerFactory(Enum.Parse<LogLevel>(options.LogLevel)) : null;
        loggers ??= ownLoggers!;
        ILogger log = loggers.CreateLogger("fastspool");
        ServerLock serverLock = ServerLock.Acquire(options.DataDirectory);
        FasterQueueLog? queueLog = null;
        MetricsCollector? collector = null;
        // The instruments of this server, and only these, are what its metrics endpoint reads.
        var meters = new ServerMeterFactory();
        try
        {
            PrivateDataDirectory.Tighten(options.DataDirectory, options.Delivery.MailDirectory!, log);
            queueLog = await FasterQueueLog.OpenAsync(options.QueueDirectory, options.Queue, meters, cancellationToken).ConfigureAwait(false);
            IQueueLog queueStore = decorateLog is null ? queueLog : decorateLog(queueLog);
            (MailQueue queue, RecoveredQueue recovered) = await MailQueue.OpenAsync(queueStore, cancellationToken).ConfigureAwait(false);
            queue.ReceptionMoveDistance = queueLog.SegmentSize;

            LocalRecipients recipients = CreateRecipients(options, log, out UserStore users, out AliasTable aliases);
            CreateMailDirectory(options.Delivery.MailDirectory!, options.DataDirectory);
            TimeProvider time = TimeProvider.System;
            ILogger qmgr = loggers.CreateLogger("qmgr");
            Func<string, MailboxOwner> ownerOf = mailbox => recipients.TryGetAccountUserId(mailbox, out int uid) ? MailboxOwner.Account((uint)uid) : MailboxOwner.Server;
            var holders = new MailboxHolders();
            var local = new LocalTransport(queue, options.Delivery.MailDirectory!, options.Delivery.LockTimeout, time, qmgr,
                ownerOf, options.Delivery.ParsedMailboxMode ?? MailboxFile.DefaultMode, holders,
                (path, offset, length) => MboxIndex.TryRelocate(Path.Combine(options.MaildropIndexDirectory, Path.GetFileName(path) + ".index"), path, offset, length,
                    out long newOffset) ? (true, newOffset) : (false, 0));
            var domains = new DomainSet(options.LocalDomains!);
            RelayTransport? relay = options.Relay.Smarthost is null ? null
                : new RelayTransport(new RelaySettings(options.Relay, options.Smtp.Hostname!, options.Smtp.MaxReceivedHeaders), queue, time, qmgr);
            var router = new LocalRouter(recipients, domains, local, relay, qmgr, relay?.Destination ?? "");
            var manager = new QueueManager(queue, router, relay is null ? [local] : [local, relay], options.Delivery, options.Queue,
                new NoticeOptions(options.Smtp.Hostname!), loggers, time, meters);
            queue.Sink = manager;
            ServerCertificate? certificate = options.Tls.Enabled ? ServerCertificate.Load(options.Tls, loggers.CreateLogger("smtpd")) : null;
            // One count of failed logins per client address for SMTP AUTH and POP3, each applying its own limits to it.
            var loginFailures = new LoginFailures(time);
            var context = new SmtpServerContext(options, domains, recipients, queue, loggers, time, meters, certificate, new PasswordVerifier(users, time), loginFailures);
            var smtp = new SmtpConnectionHandler(context);
            var pickup = new MaildropPickup(options.MaildropDirectory, options.SharedMaildropDirectory, queue, context.Hostname,
                () => (context.Options.MaxMessageSize, context.Options.MaxLineLength, context.Options.MaxRecipients), time, options.Sendmail.MaildropPollInterval,
                loggers.CreateLogger("pickup"));
            // The sendmail socket: SMTP for local users, outside the private data directory, published 0666 as the
            // control socket is published 0600.
            var sendmailSocket = new AdminSocket(options.Sendmail.Socket!, SendmailSocketMode);

            List<(string Name, IPEndPoint EndPoint)> plainEndpoints = ListenSockets.Parse("Smtp:Listen", options.Smtp.Listen!);
            List<(string Name, IPEndPoint EndPoint)> submissionEndpoints = ListenSockets.Parse("Smtp:Submission", options.Smtp.Submission!);
            List<(string Name, IPEndPoint EndPoint)> implicitEndpoints = ListenSockets.Parse("Smtp:SubmissionTls", options.Smtp.SubmissionTls!);
            List<(string Name, IPEndPoint EndPoint, SmtpListenerKind Kind)> smtpListeners =
            [
                .. plainEndpoints.Select(e => (e.Name, e.EndPoint, SmtpListenerKind.Smtp)),
                .. submissionEndpoints.Select(e => (e.Name, e.EndPoint, SmtpListenerKind.Submission)),
                .. implicitEndpoints.Select(e => (e.Name, e.EndPoint, SmtpListenerKind.SubmissionTls)),
            ];
            List<(string Name, IPEndPoint EndPoint)> smtpEndpoints = [.. smtpListeners.Select(l => (l.Name, l.EndPoint))];

            var pop3Failures = new LoginFailureLimit(loginFailures, options.Pop3.MaxLoginFailures, options.Pop3.LoginFailureDelay,
                TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(15));
            var pop3Context = new Pop3ServerContext(options, users, ownerOf, local, holders, pop3Failures, loggers, time, certificate, meters);
            var pop3 = new Pop3ConnectionHandler(pop3Context);
            List<(string Name, IPEndPoint EndPoint)> pop3Endpoints = ListenSockets.Parse("Pop3:Listen", options.Pop3.Listen ?? []);
            List<(string Name, IPEndPoint EndPoint)> pop3TlsEndpoints = ListenSockets.Parse("Pop3:ListenTls", options.Pop3.ListenTls ?? []);
            List<(string Name, IPEndPoint EndPoint)> metricsEndpoints = ListenSockets.Parse("Metrics:Listen", options.Metrics.Listen ?? []);
            var listenSockets = new ListenSockets([.. smtpEndpoints, .. pop3Endpoints, .. pop3TlsEndpoints, .. metricsEndpoints]);
            if (metricsEndpoints.Count > 0)
                collector = new MetricsCollector(meters);
            WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.Services.AddSingleton(loggers);
            builder.Services.AddSingleton(context);
            builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
            {
                // Smtp:MaxConnections is counted by the SMTP handler, which answers 421 where Kestrel would close silently.
                kestrel.AddServerHeader = false;
                foreach ((string name, IPEndPoint endpoint, SmtpListenerKind kind) in smtpListeners)
                {
                    var listener = new SmtpListener(kind, context.Statistics.AddListener(name));
                    kestrel.Listen(endpoint, l => l.Run(connection => smtp.OnConnectedAsync(connection, listener)));
                }
                var sendmailListener = new SmtpListener(SmtpListenerKind.Smtp, context.Statistics.AddListener("sendmail"));
                kestrel.ListenUnixSocket(sendmailSocket.BindPath, l => l.Run(connection => smtp.OnLocalConnectedAsync(connection, sendmailListener)));
                foreach ((_, IPEndPoint endpoint) in pop3Endpoints)
                    kestrel.Listen(endpoint, l => l.Run(connection => pop3.OnConnectedAsync(connection, implicitTls: false)));
                foreach ((_, IPEndPoint endpoint) in pop3TlsEndpoints)
                    kestrel.Listen(endpoint, l => l.Run(connection => pop3.OnConnectedAsync(connection, implicitTls: true)));
                kestrel.ListenForMetrics(metricsEndpoints.Select(m => m.EndPoint));
            });
            // A session that waits for its client to read replies stops reading; this bounds what the transport
            // reads ahead of it meanwhile (Kestrel's default is 1 MiB a connection). Replies: see SmtpSession.
            builder.WebHost.UseSockets(sockets =>
            {
                sockets.CreateBoundListenSocket = listenSockets.Create;
                sockets.MaxReadBufferSize = SmtpSession.MaxInputBuffer;
                sockets.MaxWriteBufferSize = SmtpSession.MaxOutputBuffer;
            });
            // Admin endpoint (HTTP on DataDirectory/control.sock). The queue manager's IQueueControl goes here; null answers 503.
            IQueueControl? control = new MaildropFlushingControl(manager, pickup);
            builder.AddFastSpoolAdmin(options.ControlSocketPath, control);
            builder.Services.AddSingleton<IHostedService>(sendmailSocket);
            WebApplication app = builder.Build();
            if (collector is not null)
                app.UseFastSpoolMetrics(collector); // ahead of routing: nothing else answers on the metrics port
            app.UseRouting();
            app.MapFastSpoolAdmin(); // Admin endpoint

            var server = new FastSpoolServer(app, serverLock, queue, manager, recipients, context, collector, log)
            {
                Relay = relay,
                OwnLoggers = ownLoggers,
                Reloadable = new ReloadableParts(options, loggers, context, domains, users, aliases, certificate),
                Certificate = certificate,
                Pickup = pickup,
            };
            context.Stopping = server._stopping.Token;
            pop3Context.Stopping = server._stopping.Token;
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await app.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            // Deliveries start once the listeners are up: a server that cannot bind leaves no workers behind.
            manager.Start(recovered);
            pickup.Start();
            if (options.StatisticsInterval > TimeSpan.Zero)
                server._statistics = server.LogStatisticsAsync(options.StatisticsInterval);
            server._fileChecks = server.CheckFilesAsync(time);
            if (options.Users.System)
                WarnOfMissingRights(options, log);
            log.LogInformation("FastSpool started: data {Data}, SMTP on {Listen}{Submission}, POP3 on {Pop3}{Metrics}, local domains {Domains}, {Messages} messages in queue",
                options.DataDirectory, string.Join(", ", options.Smtp.Listen!),
                (submissionEndpoints.Count > 0 ? ", submission on " + string.Join(", ", options.Smtp.Submission!) : "")
                + (implicitEndpoints.Count > 0 ? ", submission with TLS on " + string.Join(", ", options.Smtp.SubmissionTls!) : ""),
                string.Join(", ", options.Pop3.Listen!) + (pop3TlsEndpoints.Count > 0 ? ", POP3 with TLS on " + string.Join(", ", options.Pop3.ListenTls!) : ""),
                metricsEndpoints.Count > 0 ? ", metrics on " + string.Join(", ", options.Metrics.Listen!) : "",
                string.Join(", ", options.LocalDomains!), recovered.Messages.Count);
            return server;
        }
        catch
        {
            collector?.Dispose();
            ownLoggers?.Dispose();
            if (queueLog is not null)
                await queueLog.DisposeAsync().ConfigureAwait(false);
            serverLock.Dispose();
            throw;
        }
    }

    /// <summary>Creates the data directory if need be; a directory that cannot be written is named as such, not left to
    /// surface later as a failure to take the lock.</summary>
    private static void CreateDataDirectory(string path)
    {
        try
        {
            PrivateDataDirectory.Create(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServerStartException(StartFailure.DataDirectoryNotWritable, $"cannot create the data directory {path}: {e.Message}", e);
        }
    }

    /// <summary>Logs the statistics line every <paramref name="interval"/> until the server stops.</summary>
    private async Task LogStatisticsAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
                LogStatistics();
        }
        catch (OperationCanceledException)
        {
            // The server is stopping; DisposeAsync logs the last line.
        }
    }

    /// <summary>The users, the aliases (the data directory's, then the host's) and the login accounts. Every reading
    /// of an aliases file, the first and each reload, logs the problems found in it with file and line.</summary>
    private static LocalRecipients CreateRecipients(FastSpoolOptions options, ILogger log, out UserStore users, out AliasTable aliases)
    {
        void Loaded(string path, int count, IReadOnlyList<string> problems)
        {
            log.LogInformation("aliases: read {Path}: {Count} aliases, {Problems} problems", path, count, problems.Count);
            foreach (string problem in problems)
                log.LogWarning("aliases: {Problem}", problem);
        }

        bool system = options.Users.System;
        users = new UserStore(options.DataDirectory);
        aliases = new AliasTable(options.DataDirectory, Loaded);
        return new LocalRecipients(
            users,
            aliases,
            system ? new SystemAccounts(options.Users.PasswdFile, options.Users.SystemMinUid, options.Users.SystemMaxUid) : null,
            system,
            system ? AliasTable.FromFile(options.Users.SystemAliasesFile, Loaded) : null,
            remoteDeliverable: options.Relay.Smarthost is not null);
    }

    /// <summary>A mail directory the server makes outside the data directory (as /var/mail) is 0755 whatever the
    /// umask (the server's is 077): login accounts reach their own mailboxes in it, each private to its owner. Inside
    /// the private data directory (the default) it is private too. One that exists is left as it is.</summary>
    private static void CreateMailDirectory(string path, string dataDirectory)
    {
        if (Directory.Exists(path))
            return;
        Directory.CreateDirectory(path, PrivateModes.Directory);
        string data = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory)) + Path.DirectorySeparatorChar;
        if (!Path.GetFullPath(path).StartsWith(data, StringComparison.Ordinal))
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
    }

    /// <summary>Says at start what deliveries to login accounts will fail for want of a right, rather than only at
    /// the first such delivery.</summary>
    private static void WarnOfMissingRights(FastSpoolOptions options, ILogger log)
    {
        uint uid = Posix.Libc.GetEffectiveUserId();
        if (!Posix.Capabilities.Has(Posix.Capability.Chown))
        {
            log.LogWarning("Users:System: the server (uid {Uid}) lacks CAP_CHOWN: a new mailbox of a login account cannot be given to it, "
                + "so such deliveries are deferred; run the server as root or grant it CAP_CHOWN", uid);
        }
        UnixFileMode mode = options.Delivery.ParsedMailboxMode ?? MailboxFile.DefaultMode;
        if (!Posix.Capabilities.Has(Posix.Capability.DacOverride) && (mode & UnixFileMode.GroupWrite) == 0)
        {
            log.LogWarning("Users:System: the server (uid {Uid}) lacks CAP_DAC_OVERRIDE and Delivery:MailboxMode {Mode} grants the group nothing: "
                + "it cannot write the mailboxes it gives to login accounts; run it as root, or set Delivery:MailboxMode to 0660 and put it in the mail directory's group",
                uid, options.Delivery.MailboxMode);
        }
    }

    /// <summary>Looks at the users, aliases and accounts files and the certificate every second, so that a change is
    /// read (and an aliases file's problems logged) even while no mail comes.</summary>
    private async Task CheckFilesAsync(TimeProvider time)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                Recipients.CheckFiles();
                Certificate?.CheckFiles();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void LogStatistics() => _log.LogInformation("{Statistics}", _statisticsCounters.Format(_manager.ActiveMessages));

    internal QueueManager Manager => _manager;

    /// <summary>What the SMTP sessions share (tests read its statistics and turn its switches).</summary>
    internal SmtpServerContext Smtp { get; }

    internal MailQueue Queue => _queue;

    private ILoggerFactory? OwnLoggers { get; init; }

    /// <summary>The relay agent when Relay:Smarthost is set; its idle connections are closed at stop.</summary>
    private RelayTransport? Relay { get; init; }

    private ReloadableParts Reloadable { get; init; } = null!;

    /// <summary>The configuration in effect, reloads included.</summary>
    internal FastSpoolOptions RunningOptions => Reloadable.Running;

    /// <summary>The certificate of the TLS listeners, read again when its files change.</summary>
    internal ServerCertificate? Certificate { get; init; }

    /// <summary>Read and write for everyone: any local user may submit; who they are comes from the kernel.</summary>
    private const UnixFileMode SendmailSocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    /// <summary>Takes what sendmail left in the maildrop into the queue.</summary>
    internal MaildropPickup Pickup { get; private init; } = null!;

    /// <summary>SIGHUP: takes what can change without a restart from <paramref name="load"/> and logs each change;
    /// a configuration that does not load is logged and the running one kept.</summary>
    public void Reload(Func<(FastSpoolOptions? Options, string? Error)> load)
    {
        Reloadable.Reload(load, _log);
        Pickup.Poke(); // newaliases and sendmail's fallback both say "look again"
    }

    /// <summary>Logs why the server stops (<c>stopping on SIGTERM</c>), then stops it.</summary>
    public ValueTask StopAsync(string reason)
    {
        _log.LogInformation("{Reason}", reason);
        return DisposeAsync();
    }

    /// <summary>One line in the mail log's format, for what is written before the log exists (a failure to start).</summary>
    public static string FormatLogLine(LogLevel level, string message) =>
        MailLogProvider.Format(DateTime.UtcNow, "fastspool", level, message, null);

    internal LocalRecipients Recipients { get; }

    /// <summary>The mail log at <paramref name="minimum"/>; a reload may change the level later.</summary>
    public static ILoggerFactory CreateLoggerFactory(LogLevel minimum = LogLevel.Information)
    {
        var level = new LogLevelSwitch(minimum);
        ILoggerFactory factory = LoggerFactory.Create(b => b
            .SetMinimumLevel(LogLevel.Trace)
            .AddFilter((_, _, l) => l >= level.Minimum)
            .AddFilter("Microsoft", LogLevel.Warning)
            // Kestrel's "Unable to start Kestrel" repeats, with a stack trace, the failure that StartAsync throws.
            .AddFilter("Microsoft.AspNetCore.Server.Kestrel", level => level is LogLevel.Warning or LogLevel.Error)
            .Services.AddSingleton<ILoggerProvider>(_ => new MailLogProvider(level)));
        LogLevelSwitch.Attach(factory, level);
        return factory;
    }

    /// <summary>Stops listening, tells open sessions 421, stops the delivery workers and commits the queue.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _statistics.ConfigureAwait(false);
        await _fileChecks.ConfigureAwait(false);
        LogStatistics();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await Pickup.DisposeAsync().ConfigureAwait(false);
        await _manager.DisposeAsync().ConfigureAwait(false);
        if (Relay is not null)
            await Relay.DisposeAsync().ConfigureAwait(false);
        await _queue.DisposeAsync().ConfigureAwait(false);
        _collector?.Dispose();
        _metrics.Dispose();
        _lock.Dispose();
        _stopping.Dispose();
        _log.LogInformation("stopped");
        OwnLoggers?.Dispose(); // writes the last queued log lines
    }
}
