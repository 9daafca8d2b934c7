using System.Text;
using FastSpool.Configuration;
using FastSpool.Delivery.Scheduling;
using FastSpool.Queue;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Delivery.Tests.Support;

/// <summary>A queue manager over a real queue log in a temp directory, with a fake clock, a <see cref="FakeTransport"/>
/// for every recipient the <see cref="FakeRouter"/> knows, and notices read back from what the transport got. It is
/// the queue's sink and passes every committed message on to the manager, counting them.</summary>
internal sealed class SchedulerHarness : IQueueSink, IAsyncDisposable
{
    /// <summary>Whole seconds, as the notices' date fields are.</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    public const string Hostname = "mx.example.net";

    private const string ProbeSender = "probe@example.org";

    private readonly TempDirectory _dir = new();
    private readonly List<QueuedMessage> _accepted = [];
    private FasterQueueLog? _log;
    private MailQueue? _queue;
    private QueueManager? _manager;

    public SchedulerHarness()
    {
        Transport = new FakeTransport("fake", Clock);
        Router = new FakeRouter(Transport);
        Router.Add("probe");
    }

    public FakeTimeProvider Clock { get; } = new(Epoch);

    public FakeTransport Transport { get; }

    public FakeRouter Router { get; }

    public DeliveryOptions Delivery { get; } = new()
    {
        BatchDelay = TimeSpan.Zero,
        Concurrency = 1,
        RetryDelay = TimeSpan.FromMinutes(5),
        MaxRetryDelay = TimeSpan.FromMinutes(67),
    };

    public QueueOptions Queue { get; } = new()
    {
        PageSizeBits = 20,
        MemorySizeBits = 22,
        SegmentSizeBits = 20,
    };

    public MailQueue MailQueue => _queue ?? throw new InvalidOperationException("not started");

    public QueueManager Manager => _manager ?? throw new InvalidOperationException("not started");

    /// <summary>What the last start recovered from the log.</summary>
    public RecoveredQueue Recovered { get; private set; } = new();

    /// <summary>Every message committed since the harness was made, notices included, in commit order.</summary>
    public IReadOnlyList<QueuedMessage> Accepted
    {
        get
        {
            lock (_accepted)
                return [.. _accepted];
        }
    }

    /// <summary>The scope of the queue manager's instruments, so that a test reads its own and not another's.</summary>
    public FastSpool.Metrics.ServerMeterFactory Meters { get; } = new();

    public async Task StartAsync()
    {
        _log = await FasterQueueLog.OpenAsync(_dir.Path, Queue);
        (MailQueue queue, RecoveredQueue recovered) = await MailQueue.OpenAsync(_log);
        var manager = new QueueManager(queue, Router, [Transport], Delivery, Queue, new NoticeOptions(Hostname), NullLoggerFactory.Instance, Clock, Meters);
        queue.Sink = this;
        Transport.Queue = queue;
        _queue = queue;
        _manager = manager;
        Recovered = recovered;
        manager.Start(recovered);
    }

    /// <summary>Stops the manager and closes the log (what was appended is committed), as a clean shutdown does.</summary>
    public async Task StopAsync()
    {
        if (_manager is not null)
            await _manager.DisposeAsync();
        if (_queue is not null)
            await _queue.DisposeAsync();
        else if (_log is not null)
            await _log.DisposeAsync();
        _manager = null;
        _queue = null;
        _log = null;
    }

    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    public void Accept(QueuedMessage message)
    {
        lock (_accepted)
            _accepted.Add(message);
        Manager.Accept(message);
    }

    /// <summary>Submits a message through the queue's one submission path, arriving now on the fake clock.</summary>
    /// <param name="text">The message as stored (CRLF line ends); a small one naming the recipients when null.</param>
    public async Task<QueuedMessage> SubmitAsync(string sender, string[] recipients, DsnNotify notify = DsnNotify.None,
        string?[]? originalRecipients = null, string? text = null, bool eightBitMime = false, bool smtpUtf8 = false,
        DsnReturn ret = DsnReturn.Unspecified, string? envelopeId = null)
    {
        MessageWriter writer = MailQueue.RentWriter();
        try
        {
            writer.Begin(Clock.GetUtcNow(), long.MaxValue);
            text ??= $"From: <{sender}>\r\nTo: {string.Join(", ", recipients)}\r\nSubject: test\r\nMessage-ID: <{writer.Id}@client.example.org>\r\n\r\n"
                + $"Body of {writer.Id}.\r\n";
            await writer.WriteAsync(Encoding.UTF8.GetBytes(text));
            var list = new RecipientList();
            for (int i = 0; i < recipients.Length; i++)
            {
                string? orcpt = originalRecipients?[i];
                list.Add(Encoding.UTF8.GetBytes(recipients[i]), orcpt is null ? default : Encoding.UTF8.GetBytes(orcpt), notify);
            }
            writer.Seal(new SubmissionEnvelope
            {
                Sender = Encoding.UTF8.GetBytes(sender),
                Recipients = list,
                ClientAddress = "192.0.2.7"u8,
                ClientHelo = "client.example.org"u8,
                EightBitMime = eightBitMime,
                SmtpUtf8 = smtpUtf8,
                Return = ret,
                EnvelopeId = envelopeId is null ? default : Encoding.UTF8.GetBytes(envelopeId),
            });
            return await writer.CommitAsync();
        }
        finally
        {
            MailQueue.ReturnWriter(writer);
        }
    }

    /// <summary>Notices the transport got, in order.</summary>
    public IReadOnlyList<DeliveredNotice> Notices() =>
        [.. Transport.Deliveries.Where(d => d.Sender.Length == 0).Select(DeliveredNotice.Read)];

    /// <summary>Notices the transport got about the message <paramref name="original"/>.</summary>
    public IReadOnlyList<DeliveredNotice> NoticesAbout(QueueId original) =>
        [.. Notices().Where(n => n.OriginalQueueId == original.ToString())];

    /// <summary>A barrier: when it returns, whatever the manager had been handed before the call (messages to
    /// route, retries that came due, batches, notices) is done, with one delivery worker. It sends a probe to an
    /// unknown user and waits for the probe's failure notice to be delivered and both to leave the queue: the
    /// probe passes through the intake, the delivery worker and the notice worker after everything before it.</summary>
    public async Task DrainAsync()
    {
        Assert.Equal(1, Delivery.Concurrency);
        QueuedMessage probe = await SubmitAsync(ProbeSender, ["nobody@example.org"]);
        FakeDelivery? notice = null;
        await Wait.UntilAsync(() => (notice = Transport.Deliveries.FirstOrDefault(d => d.Part == "probe" && DeliveredNotice.Read(d).OriginalQueueId == probe.Id.ToString())) is not null,
            because: $"the probe {probe.Id}'s notice to be delivered");
        await Wait.UntilAsync(() => Manager.Find(probe.Id.ToString()) is null && Manager.Find(notice!.Id.ToString()) is null,
            because: "the probe and its notice to leave the queue");
    }

    /// <summary>Waits until the queue holds no message.</summary>
    public Task IdleAsync() =>
        Wait.UntilAsync(() => Manager.Counters().Messages == 0, because: "the queue to be empty",
            observed: () => string.Join("; ", Manager.List().Select(m => $"{m.Id} from <{m.Sender}> " + string.Join(",", m.Recipients.Select(r => $"{r.Address}:{r.Status}")))));

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _dir.Dispose();
    }
}
