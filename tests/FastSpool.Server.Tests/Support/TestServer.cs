using System.Net;
using System.Net.Sockets;
using System.Text;
using FastSpool.Configuration;
using FastSpool.Delivery.Control;
using FastSpool.Users;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace FastSpool.Server.Tests.Support;

/// <summary>A FastSpool server in this process on a free loopback port, with its own data directory and the users
/// alice and bob. Disposing it stops the server and deletes the directory.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(FastSpoolServer server, FastSpoolOptions options, int port, CapturedLog log)
    {
        Server = server;
        Options = options;
        Port = port;
        Log = log;
    }

    public FastSpoolServer Server { get; }

    private Func<FastSpoolOptions> _build = null!;

    /// <summary>What SIGHUP does: the configuration the server started with, read again with <paramref name="change"/>.</summary>
    public void Reload(Action<FastSpoolOptions> change) => Server.Reload(() =>
    {
        FastSpoolOptions fresh = _build();
        change(fresh);
        fresh.ApplyDefaults();
        return (fresh, null);
    });

    public FastSpoolOptions Options { get; }

    public int Port { get; }

    /// <summary>The POP3 port (the first of Pop3:Listen).</summary>
    public int Pop3Port => int.Parse(Options.Pop3.Listen![0].Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>What the server logged at the level it was started with (warnings unless asked for more).</summary>
    public CapturedLog Log { get; }

    public string MailDirectory => Options.Delivery.MailDirectory!;

    /// <summary>Keep the data directory when disposed, for a restart on it.</summary>
    public bool KeepData { get; set; }

    public string MailboxPath(string user) => Path.Combine(MailDirectory, user);

    /// <summary>Messages the queue manager still has deliveries for. The only place the tests ask the queue
    /// manager, so that a change of its API is mended here.</summary>
    public int QueuedMessages => Server.Manager.ActiveMessages;

    /// <summary>The queue manager's counters: messages, held ones, ones being delivered now.</summary>
    public QueueCounters Counters => Server.Manager.Counters();

    /// <summary>Waits until the only messages left in the queue are <paramref name="held"/> held ones, none of them
    /// being delivered: the queue is idle but for them, so what is in the mailboxes now is all that comes.</summary>
    public Task WaitForIdleQueueButHeldAsync(int held, TimeSpan? timeout = null) =>
        Wait.UntilAsync(() => Counters is { Messages: var m, HeldMessages: var h, ActiveMessages: 0 } && m == held && h == held, timeout,
            $"a queue idle but for {held} held messages", () => Counters.ToString());

    /// <summary>Waits until the queue manager has nothing left to deliver. Mail that got its 250 is in the queue
    /// before the reply is sent, so after this no delivery of it is still to come, a duplicate included.</summary>
    public Task WaitForIdleQueueAsync(TimeSpan? timeout = null) =>
        Wait.UntilAsync(() => QueuedMessages == 0, timeout, "an idle queue", () => $"{QueuedMessages} messages still queued");

    /// <summary>Waits until <paramref name="user"/>'s mailbox holds <paramref name="count"/> messages and the queue
    /// is idle, then reads it with MimeKit and checks that it holds exactly that many: one delivered twice, late,
    /// fails the test instead of going unseen.</summary>
    public async Task<List<(string Marker, MimeMessage Message)>> DeliveredAsync(string user, int count, TimeSpan? timeout = null)
    {
        string path = MailboxPath(user);
        await Mailbox.WaitForAsync(path, count, timeout);
        await WaitForIdleQueueAsync();
        List<(string Marker, MimeMessage Message)> messages = Mailbox.Read(path);
        Assert.True(messages.Count == count, $"{path}: {messages.Count} messages delivered once the queue was idle, expected exactly {count}");
        return messages;
    }

    /// <summary>Users and aliases are files the server rereads when they change (at most once a second).</summary>
    public Task WaitUntilDeliverableAsync(string localPart) =>
        Wait.UntilAsync(() => Server.Recipients.IsDeliverable(Encoding.UTF8.GetBytes(localPart)), TimeSpan.FromSeconds(10),
            $"{localPart} to become deliverable");

    public static async Task<TestServer> StartAsync(Action<FastSpoolOptions>? configure = null, string? dataDirectory = null, Func<FastSpool.Queue.IQueueLog, FastSpool.Queue.IQueueLog>? decorateLog = null,
        LogLevel logLevel = LogLevel.Warning)
    {
        int port = FreePort();
        int pop3Port = FreePort();
        string data = dataDirectory ?? Path.Combine(Path.GetTempPath(), "fastspool-it-" + Guid.NewGuid().ToString("N"));
        FastSpoolOptions Build()
        {
            var built = new FastSpoolOptions
            {
                DataDirectory = data,
                LocalDomains = ["localhost", "example.test"],
                Users = { System = false },
                Smtp = { Listen = [$"127.0.0.1:{port}"], Hostname = "mx.example.test" },
                Pop3 = { Listen = [$"127.0.0.1:{pop3Port}"] },
                Delivery = { RetryDelay = TimeSpan.FromMilliseconds(200), MaxRetryDelay = TimeSpan.FromSeconds(1), LockTimeout = TimeSpan.FromMilliseconds(200) },
                Queue = { PageSizeBits = 20, MemorySizeBits = 24, SegmentSizeBits = 22, RecoveryInterval = TimeSpan.FromMilliseconds(100) },
            };
            configure?.Invoke(built);
            return built;
        }
        FastSpoolOptions options = Build();
        options.ApplyDefaults();
        Assert.Empty(OptionsValidator.Validate(options));
        Directory.CreateDirectory(options.DataDirectory);
        var users = new UserStore(options.DataDirectory);
        if (!users.Contains("alice".AsSpan()))
        {
            users.Add("alice", PasswordHasher.Hash("alice-secret"));
            users.Add("bob", null);
        }
        ILoggerFactory loggers = FastSpoolServer.CreateLoggerFactory(logLevel);
        var log = new CapturedLog();
        loggers.AddProvider(log);
        FastSpoolServer server = await FastSpoolServer.StartAsync(options, loggers, decorateLog);
        return new TestServer(server, options, port, log) { _build = Build };
    }

    private static int s_nextPort = 10_000 + Random.Shared.Next(PortRange);

    private const int PortRange = 22_000;

    /// <summary>A port nothing listens on now, below the kernel's ephemeral range (32768 and up): a port the kernel
    /// handed out (port 0) is the kind it also gives the test's own client sockets, which could take it between this
    /// call and the server's bind. Ports are taken in turn from a random start, so that test runs side by side rarely
    /// try the same one.</summary>
    public static int FreePort()
    {
        for (int tries = 0; tries < 1000; tries++)
        {
            int port = 10_000 + (int)((uint)Interlocked.Increment(ref s_nextPort) % PortRange);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // In use: the next one.
            }
        }
        throw new InvalidOperationException("no free port from 10000 to 31999 on 127.0.0.1");
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        if (KeepData)
            return;
        try
        {
            Directory.Delete(Options.DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
