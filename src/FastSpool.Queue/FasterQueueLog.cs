using FastSpool.Configuration;
using FastSpool.Posix;
using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using FASTER.core;

namespace FastSpool.Queue;

/// <summary><see cref="IQueueLog"/> on a FasterLog: one committer loop shares each commit among all waiting
/// appenders (group commit). See notes on FasterLog: EnqueueAndWaitForCommitAsync never commits by itself,
/// Dispose does not commit, and after a device error the log stays failed — so after a failure the whole FasterLog
/// is reopened from its files (<see cref="TryRecoverAsync"/>) once the cause is gone.</summary>
public sealed class FasterQueueLog : IQueueLog
{
    private const string CommitDirectoryName = "log-commits";
    private const string SegmentPrefix = "q.log";
    private const string GeometryFileName = "geometry";
    private const int EntryHeaderSize = 12; // FasterLog's header with a per-entry checksum

    private readonly string _directory;
    private readonly QueueOptions _options;
    private readonly int _pageBits;
    private readonly int _segmentBits;
    private readonly Channel<bool> _commitSignal = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Task _committer;
    private readonly SemaphoreSlim _recovering = new(1, 1);
    private volatile Engine _engine;
    private volatile Exception? _failure;
    private int _inFlight;
    private readonly List<CommitWaiter> _waiters = [];
    private readonly List<CommitWaiter> _ready = []; // the committer's only
    private int _disposed;
    private readonly Meter _meter;
    private readonly Histogram<double> _commitWait;
    private readonly Histogram<double> _commitDuration;

    /// <summary>Bucket bounds of the commit histograms, in seconds: an fsync takes from a fraction of a millisecond
    /// (a disk with a write cache) to tens of milliseconds; more than a second is a disk in trouble.</summary>
    private static readonly IReadOnlyList<double> CommitBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private FasterQueueLog(string directory, QueueOptions options, int pageBits, int segmentBits, Engine engine, IMeterFactory? meters)
    {
        _meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = CommitBuckets };
        _commitWait = _meter.CreateHistogram("fastspool.queue.commit.wait", "s",
            "From a durable append (a message's envelope, a delivery's journal) until the commit that covers it", advice: advice);
        _commitDuration = _meter.CreateHistogram("fastspool.queue.commit.duration", "s",
            "One group commit of the queue log (its writes and fsync)", advice: advice);
        _directory = directory;
        _options = options;
        _pageBits = pageBits;
        _segmentBits = segmentBits;
        _engine = engine;
        MaxRecordLength = (1 << pageBits) - EntryHeaderSize;
        _committer = Task.Run(CommitLoopAsync);
    }

    /// <summary>Meter of the commit histograms (the queue manager's gauges share the name).</summary>
    public const string MeterName = "FastSpool.Queue";

    private FasterLog Log => _engine.Log;

    /// <summary>Opens (and recovers) the log in <paramref name="directory"/>. Refuses to come up empty over segment
    /// files whose commit cannot be found.</summary>
    /// <param name="meters">Where the commit histograms' meter comes from; null: a meter of no server's scope.</param>
    public static async Task<FasterQueueLog> OpenAsync(string directory, QueueOptions options, IMeterFactory? meters = null, CancellationToken cancellationToken = default)
    {
        string dir = Path.GetFullPath(directory);
        Directory.CreateDirectory(dir, PrivateModes.Directory);
        bool hadSegments = Directory.EnumerateFiles(dir, SegmentPrefix + ".*").Any();
        string commitDir = Path.Combine(dir, CommitDirectoryName);
        bool hadCommits = Directory.Exists(commitDir) && Directory.EnumerateFiles(commitDir, "commit.*").Any();
        if (hadSegments && !hadCommits)
            throw new QueueOpenException($"the queue in {dir} has segment files but no commit record: refusing to start with an empty queue (move the directory aside to start anew)");

        (int pageBits, int segmentBits) = Geometry(dir, options, hadSegments);
        Engine engine = Engine.Open(dir, options, pageBits, segmentBits);
        if (hadSegments && engine.Log.TailAddress <= engine.Log.BeginAddress && engine.Log.BeginAddress <= 64)
        {
            engine.Dispose();
            throw new QueueOpenException($"the queue in {dir} has segment files but nothing could be recovered from them: refusing to start with an empty queue");
        }
        var queueLog = new FasterQueueLog(dir, options, pageBits, segmentBits, engine, meters);
        if (!hadCommits)
        {
            // A first commit at once, so that a crash from now on always finds a commit file to recover from.
            await engine.Log.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        return queueLog;
    }

    /// <summary>After a failure: waits for the operations that were under way, closes the failed FasterLog and
    /// opens it again from its files (what a restart would do). True when the log is usable again. Records that
    /// were appended but never committed are gone, as after a crash; nobody was told they were safe.</summary>
    public async ValueTask<bool> TryRecoverAsync(CancellationToken cancellationToken = default)
    {
        if (_failure is null)
            return true;
        await _recovering.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_failure is null)
                return true;
            // New operations see the failure and leave at once; wait for the ones that were inside.
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                deadline.CancelAfter(TimeSpan.FromSeconds(30));
                while (Volatile.Read(ref _inFlight) > 0)
                    await Task.Delay(10, deadline.Token).ConfigureAwait(false);
            }
            Engine old = _engine;
            try
            {
                old.Dispose();
            }
            catch (Exception)
            {
                // The failed instance may not close cleanly; its files are what matters.
            }
            Engine fresh;
            try
            {
                fresh = Engine.Open(_directory, _options, _pageBits, _segmentBits);
            }
            catch (QueueOpenException)
            {
                _engine = Engine.Closed(old);
                return false;
            }
            _engine = fresh;
            try
            {
                // Prove the disk takes a commit again before accepting anything.
                await fresh.Log.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return false;
            }
            _failure = null;
            return true;
        }
        finally
        {
            _recovering.Release();
        }
    }

    /// <summary>The page and segment sizes an existing log was written with win over the configured ones: reading a
    /// log back with another page size would misread it. They are kept in a small file beside the segments.</summary>
    private static (int PageBits, int SegmentBits) Geometry(string dir, QueueOptions options, bool existing)
    {
        string path = Path.Combine(dir, GeometryFileName);
        if (File.Exists(path))
        {
            int page = -1, segment = -1;
            foreach (string line in File.ReadAllLines(path))
            {
                string[] kv = line.Split('=', 2);
                if (kv.Length == 2 && int.TryParse(kv[1], out int value))
                {
                    if (kv[0] == "PageSizeBits")
                        page = value;
                    else if (kv[0] == "SegmentSizeBits")
                        segment = value;
                }
            }
            if (page is < 9 or > 30 || segment < page)
                throw new QueueOpenException($"{path} is damaged: cannot tell the page and segment sizes of the queue log");
            return (page, segment);
        }
        if (existing)
            throw new QueueOpenException($"the queue in {dir} has segment files but no {GeometryFileName} file: cannot tell how to read it");
        string temp = path + ".tmp";
        var create = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = PrivateModes.File };
        using (var stream = new FileStream(temp, create))
        {
            stream.Write(System.Text.Encoding.ASCII.GetBytes($"PageSizeBits={options.PageSizeBits}\nSegmentSizeBits={options.SegmentSizeBits}\n"));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        return (options.PageSizeBits, options.SegmentSizeBits);
    }

    public long BeginAddress => Log.BeginAddress;

    /// <summary>Size of a segment file, the unit in which space comes back (the geometry the log was created with).</summary>
    public long SegmentSize => 1L << _segmentBits;

    /// <summary>Largest record that fits in a log page.</summary>
    public int MaxRecordLength { get; }

    public long TailAddress => Log.TailAddress;

    /// <summary>The failure that stopped commits, if any.</summary>
    public Exception? Failure => _failure;

    public async ValueTask<long> AppendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        if (record.Length > MaxRecordLength)
            throw new ArgumentOutOfRangeException(nameof(record), $"a {record.Length}-byte record does not fit in a {MaxRecordLength + EntryHeaderSize}-byte log page");
        FasterLog log = Enter();
        try
        {
            return log.TryEnqueue(record.Span, out long address)
                ? address
                : await log.EnqueueAsync(record, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Exit();
        }
    }

    public bool TryAppend(ReadOnlySpan<byte> record, out long address)
    {
        address = 0;
        if (record.Length > MaxRecordLength || _failure is not null)
            return false;
        try
        {
            FasterLog log = Enter();
            try
            {
                return log.TryEnqueue(record, out address);
            }
            finally
            {
                Exit();
            }
        }
        catch (QueueUnavailableException)
        {
            return false;
        }
    }

    /// <summary>Enqueues, asks the committer for a commit, and waits until a commit covers the record. The record
    /// is enqueued before the waiter is registered and the commit requested, so the commit the waiter is completed
    /// by always includes it. When the record fits in the log's tail page (the common case) nothing is allocated
    /// per record: the returned task is the pooled waiter itself, with no state machine around it.</summary>
    public ValueTask<long> AppendDurableAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        try
        {
            if (record.Length > MaxRecordLength)
                throw new ArgumentOutOfRangeException(nameof(record), $"a {record.Length}-byte record does not fit in a {MaxRecordLength + EntryHeaderSize}-byte log page");
            bool enqueued;
            long address;
            FasterLog log = Enter();
            try
            {
                enqueued = log.TryEnqueue(record.Span, out address);
            }
            finally
            {
                Exit();
            }
            return enqueued ? Register(address).AddressTask : AppendThenWaitAsync(record, cancellationToken);
        }
        catch (Exception e)
        {
            return ValueTask.FromException<long>(e);
        }
    }

    /// <summary>The slow way of <see cref="AppendDurableAsync"/>: the tail page is full and the append waits for room.</summary>
    private async ValueTask<long> AppendThenWaitAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        long address = await AppendAsync(record, cancellationToken).ConfigureAwait(false);
        return await Register(address).AddressTask.ConfigureAwait(false);
    }

    /// <summary>Asks for a commit and completes once one covers the record at <paramref name="address"/>.</summary>
    public ValueTask WaitCommittedAsync(long address)
    {
        try
        {
            return Register(address).Task;
        }
        catch (QueueUnavailableException e)
        {
            return ValueTask.FromException(e);
        }
    }

    /// <summary>Registers a waiter for the commit that covers <paramref name="address"/> and asks for that commit.
    /// The record is enqueued before, so the commit the waiter is completed by always includes it.</summary>
    private CommitWaiter Register(long address)
    {
        CommitWaiter waiter = CommitWaiter.Rent(address);
        lock (_waiters)
        {
            if (_failure is { } failure)
            {
                waiter.Return();
                throw new QueueUnavailableException("queue commit failed earlier: " + failure.Message, failure);
            }
            _waiters.Add(waiter);
        }
        RequestCommit();
        return waiter;
    }

    /// <summary>Completes the waiters whose records the last commit covered (the committer's thread).</summary>
    private void CompleteWaiters(long committedUntil)
    {
        lock (_waiters)
        {
            int kept = 0;
            for (int i = 0; i < _waiters.Count; i++)
            {
                CommitWaiter waiter = _waiters[i];
                if (waiter.Address < committedUntil)
                    _ready.Add(waiter);
                else
                    _waiters[kept++] = waiter;
            }
            _waiters.RemoveRange(kept, _waiters.Count - kept);
        }
        if (_commitWait.Enabled)
        {
            long now = Stopwatch.GetTimestamp();
            foreach (CommitWaiter waiter in _ready)
                _commitWait.Record(Stopwatch.GetElapsedTime(waiter.Registered, now).TotalSeconds);
        }
        foreach (CommitWaiter waiter in _ready)
            waiter.Complete();
        _ready.Clear();
    }

    public void RequestCommit() => _commitSignal.Writer.TryWrite(true);

    public async ValueTask<(IMemoryOwner<byte> Owner, int Length)> ReadAsync(long address, CancellationToken cancellationToken = default)
    {
        FasterLog log = Enter();
        try
        {
            (IMemoryOwner<byte> owner, int length) = await log.ReadAsync(address, MemoryPool<byte>.Shared, 0, cancellationToken).ConfigureAwait(false);
            if (owner is null)
                throw new IOException($"queue record at {address} could not be read");
            return (owner, length);
        }
        finally
        {
            Exit();
        }
    }

    public async ValueTask ScanAsync(long fromAddress, QueueRecordVisitor visitor, CancellationToken cancellationToken = default)
    {
        FasterLog log = Log;
        long end = log.TailAddress;
        if (fromAddress >= end)
            return;
        using FasterLogScanIterator iterator = log.Scan(Math.Max(fromAddress, log.BeginAddress), end, recover: false);
        while (true)
        {
            while (iterator.GetNext(MemoryPool<byte>.Shared, out IMemoryOwner<byte> entry, out int length, out long address, out _))
            {
                using (entry)
                    visitor(address, entry.Memory.Span[..length]);
            }
            if (!await iterator.WaitAsync(cancellationToken).ConfigureAwait(false))
                break;
        }
    }

    public void TruncateUntil(long address)
    {
        // Only a page start is always safe: a bound taken from the tail may point into a page's padding, which
        // recovery cannot scan from. Space comes back in whole segments anyway.
        if (_failure is not null)
            return;
        FasterLog log = Log;
        if (address > log.BeginAddress)
        {
            log.TruncateUntilPageStart(address);
            RequestCommit();
        }
    }

    private async Task CommitLoopAsync()
    {
        ChannelReader<bool> signals = _commitSignal.Reader;
        while (await signals.WaitToReadAsync().ConfigureAwait(false))
        {
            signals.TryRead(out _);
            if (_failure is not null)
                continue;
            try
            {
                FasterLog log = Log;
                long started = Stopwatch.GetTimestamp();
                await log.CommitAsync().ConfigureAwait(false);
                _commitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
                CompleteWaiters(log.CommittedUntilAddress);
            }
            catch (ObjectDisposedException) when (_disposed != 0)
            {
                return;
            }
            catch (Exception e)
            {
                Fail(e);
            }
        }
    }

    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _failure, e, null);
        CommitWaiter[] waiting;
        lock (_waiters)
        {
            waiting = [.. _waiters];
            _waiters.Clear();
        }
        var error = new QueueUnavailableException("queue commit failed: " + e.Message, e);
        foreach (CommitWaiter waiter in waiting)
            waiter.Fail(error);
    }

    /// <summary>Starts an operation on the current FasterLog; a recovery waits for operations to leave.</summary>
    private FasterLog Enter()
    {
        Interlocked.Increment(ref _inFlight);
        if (_failure is { } failure)
        {
            Interlocked.Decrement(ref _inFlight);
            throw new QueueUnavailableException("queue commit failed earlier: " + failure.Message, failure);
        }
        return Log;
    }

    private void Exit() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Commits what was appended (a clean stop must not lose lazily committed state), then closes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // The committer finishes the commits asked for so far; the last commit here covers the rest.
        _commitSignal.Writer.TryComplete();
        await _committer.ConfigureAwait(false);
        if (_failure is null)
        {
            try
            {
                FasterLog log = Log;
                await log.CommitAsync().ConfigureAwait(false);
                CompleteWaiters(log.CommittedUntilAddress);
            }
            catch (Exception e)
            {
                Fail(e);
            }
        }
        _engine.Dispose();
        _recovering.Dispose();
        _meter.Dispose();
    }

    /// <summary>One FasterLog with its device and commit manager: opened, recovered and closed together.</summary>
    private sealed class Engine : IDisposable
    {
        private readonly IDevice? _device;
        private readonly DeviceLogCommitCheckpointManager? _commitManager;

        private Engine(IDevice? device, DeviceLogCommitCheckpointManager? commitManager, FasterLog log)
        {
            _device = device;
            _commitManager = commitManager;
            Log = log;
        }

        public FasterLog Log { get; }

        public static Engine Open(string dir, QueueOptions options, int pageBits, int segmentBits)
        {
            IDevice device = new SegmentFileDevice(Path.Combine(dir, SegmentPrefix));
            var commitManager = new DeviceLogCommitCheckpointManager(
                new LocalStorageNamedDeviceFactory(), new DefaultCheckpointNamingScheme(dir),
                removeOutdated: true, fastCommitThrottleFreq: options.FastCommit ? Math.Max(1, options.CommitFileInterval) : 0);
            try
            {
                var log = new FasterLog(new FasterLogSettings
                {
                    LogDevice = device,
                    PageSizeBits = pageBits,
                    MemorySizeBits = Math.Max(options.MemorySizeBits, pageBits + 1),
                    SegmentSizeBits = segmentBits,
                    LogCommitManager = commitManager,
                    LogChecksum = LogChecksumType.PerEntry,
                    FastCommitMode = options.FastCommit,
                    TryRecoverLatest = true,
                    AutoRefreshSafeTailAddress = false,
                });
                return new Engine(device, commitManager, log);
            }
            catch (Exception e)
            {
                commitManager.Dispose();
                device.Dispose();
                throw new QueueOpenException($"the queue in {dir} cannot be recovered: {e.Message}", e);
            }
        }

        /// <summary>Keeps a disposed engine in place when reopening failed, so that callers keep getting the
        /// failure rather than a null reference.</summary>
        public static Engine Closed(Engine old) => new(null, null, old.Log);

        public void Dispose()
        {
            if (_device is null)
                return;
            Log.Dispose();
            _commitManager!.Dispose();
            _device.Dispose();
        }
    }
}
