using System.Buffers;
using FastSpool.Queue;

namespace FastSpool.Server.Tests.Support;

/// <summary>Wraps the real queue log and, on demand, fails every commit the way a dying disk does. The only
/// stand-in in these tests: a real disk cannot be made to fail a commit at a chosen moment.</summary>
internal sealed class FaultyQueueLog(IQueueLog inner) : IQueueLog
{
    private volatile Exception? _failure;

    public void FailCommits() => _failure = new IOException("injected commit failure (No space left on device)");

    /// <summary>The fault is gone; the next recovery attempt succeeds.</summary>
    public void Heal() => _healed = true;

    private volatile bool _healed;

    public async ValueTask<bool> TryRecoverAsync(CancellationToken cancellationToken = default)
    {
        if (_failure is null)
            return await inner.TryRecoverAsync(cancellationToken);
        if (!_healed)
            return false;
        _failure = null;
        _healed = false;
        return true;
    }

    public long BeginAddress => inner.BeginAddress;

    public Exception? Failure => _failure ?? inner.Failure;

    public long TailAddress => inner.TailAddress;

    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default) =>
        _failure is { } e ? ValueTask.FromException<long>(new QueueUnavailableException(e.Message, e)) : inner.AppendAsync(record, cancellationToken);

    public ValueTask<long> AppendDurableAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default) =>
        _failure is { } e ? ValueTask.FromException<long>(new QueueUnavailableException(e.Message, e)) : inner.AppendDurableAsync(record, cancellationToken);

    public bool TryAppend(ReadOnlySpan<byte> record, out long address)
    {
        address = 0;
        return _failure is null && inner.TryAppend(record, out address);
    }

    public ValueTask WaitCommittedAsync(long address) =>
        _failure is { } e ? ValueTask.FromException(new QueueUnavailableException(e.Message, e)) : inner.WaitCommittedAsync(address);

    public void RequestCommit() => inner.RequestCommit();

    public ValueTask<(IMemoryOwner<byte> Owner, int Length)> ReadAsync(long address, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(address, cancellationToken);

    public ValueTask ScanAsync(long fromAddress, QueueRecordVisitor visitor, CancellationToken cancellationToken = default) =>
        inner.ScanAsync(fromAddress, visitor, cancellationToken);

    public void TruncateUntil(long address) => inner.TruncateUntil(address);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
