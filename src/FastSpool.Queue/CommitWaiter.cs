using System.Threading.Tasks.Sources;

namespace FastSpool.Queue;

/// <summary>One appender waiting for the commit that covers its record: completed by the committer loop once
/// the log is durable past <see cref="Address"/>, or failed with the commit's error. Pooled, so that waiting for
/// durability allocates nothing per record.</summary>
internal sealed class CommitWaiter : IValueTaskSource
{
    private static readonly BoundedPool<CommitWaiter> Pool = new(() => new CommitWaiter(), 1024);

    private ManualResetValueTaskSourceCore<bool> _core;

    private CommitWaiter()
    {
        // Continuations go to the thread pool: the committer loop only commits. Run inline, a session's continuation
        // (its reply, the queue manager's intake, then its next pipelined commands) delayed the next commit.
        _core.RunContinuationsAsynchronously = true;
    }

    public long Address { get; private set; }

    public ValueTask Task => new(this, _core.Version);

    public static CommitWaiter Rent(long address)
    {
        CommitWaiter waiter = Pool.Rent();
        waiter.Address = address;
        return waiter;
    }

    /// <summary>Back to the pool; only after <see cref="Task"/> was awaited.</summary>
    public void Return()
    {
        _core.Reset();
        Pool.Return(this);
    }

    public void Complete() => _core.SetResult(true);

    public void Fail(Exception error) => _core.SetException(error);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
