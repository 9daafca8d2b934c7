using System.Buffers;

namespace FastSpool.Queue;

/// <summary>The append-only log under the queue. FastSpool's queue code sees only this interface, so the engine
/// (FasterLog today) can change without touching sessions or delivery.</summary>
public interface IQueueLog : IAsyncDisposable
{
    /// <summary>Address of the first record that is still kept.</summary>
    long BeginAddress { get; }

    /// <summary>The failure that stopped commits, if any: nothing more can be made durable.</summary>
    Exception? Failure { get; }

    /// <summary>Address where the next record will go.</summary>
    long TailAddress { get; }

    /// <summary>Appends a record. It becomes durable with the next commit that covers it.</summary>
    ValueTask<long> AppendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default);

    /// <summary>Appends a record now if the log has room at once, without waiting; false otherwise (or after a
    /// failure). For a caller that must append under its own lock.</summary>
    bool TryAppend(ReadOnlySpan<byte> record, out long address);

    /// <summary>Appends a record and completes once a commit covers it (group commit: callers share commits).</summary>
    ValueTask<long> AppendDurableAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default);

    /// <summary>Asks for a commit and completes once one covers the record at <paramref name="address"/>.</summary>
    ValueTask WaitCommittedAsync(long address);

    /// <summary>Asks for a commit of everything appended so far, without waiting for it.</summary>
    void RequestCommit();

    /// <summary>Reads the record at <paramref name="address"/> into a pooled buffer; the caller disposes the owner.</summary>
    ValueTask<(IMemoryOwner<byte> Owner, int Length)> ReadAsync(long address, CancellationToken cancellationToken = default);

    /// <summary>Visits every committed record from <paramref name="fromAddress"/> to the committed tail.</summary>
    ValueTask ScanAsync(long fromAddress, QueueRecordVisitor visitor, CancellationToken cancellationToken = default);

    /// <summary>After a failure, tries to make the log usable again (reopening it from its files); true when it is.</summary>
    ValueTask<bool> TryRecoverAsync(CancellationToken cancellationToken = default);

    /// <summary>Drops everything below <paramref name="address"/> (a record start). Space comes back in whole segments.</summary>
    void TruncateUntil(long address);
}

/// <summary>Called once per record in log order; the span is valid only during the call.</summary>
public delegate void QueueRecordVisitor(long address, ReadOnlySpan<byte> record);
