using System.Buffers;
using System.Threading.Channels;
using FASTER.core;

namespace FastSpool.Queue;

/// <summary><see cref="IQueueLog"/> on a FasterLog: one committer loop shares each commit among all waiting
/// appenders (group commit). See notes on FasterLog: EnqueueAndWaitForCommitAsync never commits by itself,
/// Dispose does not commit, and after a device error the log stays failed.</summary>
public sealed class FasterQueueLog : IQueueLog
{
    private const string CommitDirectoryName = "log-commits";
    private const string SegmentPrefix = "q.log";
    private const string GeometryFileName = "geometry";

    private readonly IDevice _device;
    private readonly DeviceLogCommitCheckpointManager _commitManager;
    private readonly FasterLog _log;
    private readonly Channel<bool> _commitSignal = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Task _committer;
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _maxRecordLength;
    private volatile Exception? _failure;
    private int _disposed;

    private const int EntryHeaderSize = 12; // FasterLog's header with a per-entry checksum

    private FasterQueueLog(IDevice device, DeviceLogCommitCheckpointManager commitManager, FasterLog log, int pageBits)
    {
        _maxRecordLength = (1 << pageBits) - EntryHeaderSize;
        _device = device;
        _commitManager = commitManager;
        _log = log;
        _committer = Task.Run(CommitLoopAsync);
    }

    /// <summary>Opens (and recovers) the log in <see cref="QueueLogOptions.Directory"/>. Refuses to come up empty
    /// over segment files whose commit cannot be found.</summary>
    public static async Task<FasterQueueLog> OpenAsync(QueueLogOptions options, CancellationToken cancellationToken = default)
    {
        string dir = Path.GetFullPath(options.Directory);
        Directory.CreateDirectory(dir);
        bool hadSegments = Directory.EnumerateFiles(dir, SegmentPrefix + ".*").Any();
        string commitDir = Path.Combine(dir, CommitDirectoryName);
        bool hadCommits = Directory.Exists(commitDir) && Directory.EnumerateFiles(commitDir, "commit.*").Any();
        if (hadSegments && !hadCommits)
            throw new QueueOpenException($"the queue in {dir} has segment files but no commit record: refusing to start with an empty queue (move the directory aside to start anew)");

        (int pageBits, int segmentBits) = Geometry(dir, options, hadSegments);
        IDevice device = Devices.CreateLogDevice(Path.Combine(dir, SegmentPrefix), preallocateFile: false, deleteOnClose: false);
        var commitManager = new DeviceLogCommitCheckpointManager(
            new LocalStorageNamedDeviceFactory(), new DefaultCheckpointNamingScheme(dir),
            removeOutdated: true, fastCommitThrottleFreq: options.FastCommit ? Math.Max(1, options.CommitFileInterval) : 0);
        FasterLog log;
        try
        {
            log = new FasterLog(new FasterLogSettings
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
        }
        catch (Exception e)
        {
            commitManager.Dispose();
            device.Dispose();
            throw new QueueOpenException($"the queue in {dir} cannot be recovered: {e.Message}", e);
        }

        if (hadSegments && log.TailAddress <= log.BeginAddress && log.BeginAddress <= 64)
        {
            log.Dispose();
            commitManager.Dispose();
            device.Dispose();
            throw new QueueOpenException($"the queue in {dir} has segment files but nothing could be recovered from them: refusing to start with an empty queue");
        }

        var queueLog = new FasterQueueLog(device, commitManager, log, pageBits);
        if (!hadCommits)
        {
            // A first commit at once, so that a crash from now on always finds a commit file to recover from.
            await log.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        return queueLog;
    }

    /// <summary>The page and segment sizes an existing log was written with win over the configured ones: reading a
    /// log back with another page size would misread it. They are kept in a small file beside the segments.</summary>
    private static (int PageBits, int SegmentBits) Geometry(string dir, QueueLogOptions options, bool existing)
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
        File.WriteAllText(temp, $"PageSizeBits={options.PageSizeBits}\nSegmentSizeBits={options.SegmentSizeBits}\n");
        using (var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite))
            stream.Flush(flushToDisk: true);
        File.Move(temp, path, overwrite: true);
        return (options.PageSizeBits, options.SegmentSizeBits);
    }

    public long BeginAddress => _log.BeginAddress;

    /// <summary>Largest record that fits in a log page.</summary>
    public int MaxRecordLength => _maxRecordLength;

    public long TailAddress => _log.TailAddress;

    /// <summary>The failure that stopped commits, if any.</summary>
    public Exception? Failure => _failure;

    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        ThrowIfFailed();
        if (record.Length > MaxRecordLength)
            throw new ArgumentOutOfRangeException(nameof(record), $"a {record.Length}-byte record does not fit in a {MaxRecordLength + EntryHeaderSize}-byte log page");
        if (_log.TryEnqueue(record.Span, out long address))
            return new ValueTask<long>(address);
        return _log.EnqueueAsync(record, cancellationToken);
    }

    /// <summary>Enqueues, asks the committer for a commit, and waits until a commit covers the record. The record
    /// is enqueued before the commit is requested, so the commit always includes it (EnqueueAndWaitForCommitAsync
    /// may still be waiting for log memory when the commit it relies on is taken).</summary>
    public async ValueTask<long> AppendDurableAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        long address = await AppendAsync(record, cancellationToken).ConfigureAwait(false);
        RequestCommit();
        try
        {
            ValueTask committed = _log.WaitForCommitAsync(address + 1, -1, CancellationToken.None);
            if (!committed.IsCompletedSuccessfully)
            {
                // A failed commit must not leave the caller waiting for a commit that never comes.
                Task wait = committed.AsTask();
                if (await Task.WhenAny(wait, _failed.Task).ConfigureAwait(false) != wait)
                    ThrowIfFailed();
                await wait.ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not QueueUnavailableException)
        {
            Fail(e);
            throw new QueueUnavailableException("queue commit failed: " + e.Message, e);
        }
        return address;
    }

    public void RequestCommit() => _commitSignal.Writer.TryWrite(true);

    public async ValueTask<(IMemoryOwner<byte> Owner, int Length)> ReadAsync(long address, CancellationToken cancellationToken = default)
    {
        (IMemoryOwner<byte> owner, int length) = await _log.ReadAsync(address, MemoryPool<byte>.Shared, 0, cancellationToken).ConfigureAwait(false);
        if (owner is null)
            throw new IOException($"queue record at {address} could not be read");
        return (owner, length);
    }

    public async ValueTask ScanAsync(long fromAddress, QueueRecordVisitor visitor, CancellationToken cancellationToken = default)
    {
        long end = _log.TailAddress;
        if (fromAddress >= end)
            return;
        using FasterLogScanIterator iterator = _log.Scan(Math.Max(fromAddress, _log.BeginAddress), end, recover: false);
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
        if (address > _log.BeginAddress)
        {
            _log.TruncateUntilPageStart(address);
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
                await _log.CommitAsync().ConfigureAwait(false);
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
        _failed.TrySetResult();
    }

    private void ThrowIfFailed()
    {
        Exception? failure = _failure;
        if (failure is not null)
            throw new QueueUnavailableException("queue commit failed earlier: " + failure.Message, failure);
    }

    /// <summary>Commits what was appended (a clean stop must not lose lazily committed state), then closes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (_failure is null)
        {
            try
            {
                await _log.CommitAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Fail(e);
            }
        }
        _commitSignal.Writer.TryComplete();
        await _committer.ConfigureAwait(false);
        _log.Dispose();
        _commitManager.Dispose();
        _device.Dispose();
    }
}
