using System.Threading.Tasks.Sources;

namespace FastSpool.Queue;

/// <summary>One appender waiting for the commit that covers its record: completed by the committer loop once
/// the log is durable past <see cref="Address"/>, or failed with the commit's error. Pooled, so that waiting for
/// durability allocates nothing per record: a waiter goes back to the pool by itself once its task's result is taken
/// (an await does that exactly once), so no state machine is needed around it to return it.</summary>
internal sealed class CommitWaiter : IValueTaskSource, IValueTaskSource<long>, IThreadPoolWorkItem
{
    private static readonly BoundedPool<CommitWaiter> Pool = new(() => new CommitWaiter(), 1024);

    private ManualResetValueTaskSourceCore<bool> _core;
    private Exception? _error;

    private CommitWaiter()
    {
    }

    public long Address { get; private set; }

    /// <summary>When the appender began to wait (<see cref="System.Diagnostics.Stopwatch"/> ticks), for the commit-wait histogram.</summary>
    public long Registered { get; private set; }

    /// <summary>Completes when the record is durable; awaited exactly once, after which the waiter is back in the pool.</summary>
    public ValueTask Task => new(this, _core.Version);

    /// <summary>As <see cref="Task"/>, with the record's address as the result.</summary>
    public ValueTask<long> AddressTask => new(this, _core.Version);

    public static CommitWaiter Rent(long address)
    {
        CommitWaiter waiter = Pool.Rent();
        waiter.Address = address;
        waiter.Registered = System.Diagnostics.Stopwatch.GetTimestamp();
        return waiter;
    }

    /// <summary>Back to the pool without being awaited (a waiter that was never handed out).</summary>
    public void Return()
    {
        _core.Reset();
        Pool.Return(this);
    }

    // The committer loop only commits: the waiter itself goes to the thread pool as a work item (nothing is
    // allocated for it), and the appender's continuation runs there. Run on the committer, a session's continuation
    // (its reply, the queue manager's intake, then its next pipelined commands) delayed the next commit.
    public void Complete() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

    public void Fail(Exception error)
    {
        _error = error;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        Exception? error = _error;
        _error = null;
        if (error is null)
            _core.SetResult(true);
        else
            _core.SetException(error);
    }

    void IValueTaskSource.GetResult(short token)
    {
        try
        {
            _core.GetResult(token);
        }
        finally
        {
            Return();
        }
    }

    long IValueTaskSource<long>.GetResult(short token)
    {
        long address = Address;
        try
        {
            _core.GetResult(token);
        }
        finally
        {
            Return();
        }
        return address;
    }

    ValueTaskSourceStatus IValueTaskSource<long>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<long>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
