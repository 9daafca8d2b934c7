using System.Buffers.Binary;
using System.Threading.Tasks.Sources;

namespace FastSpool.Perf.Queue;

/// <summary>One producer's pending record in a <see cref="GroupCommitFile"/>: the record, its length prefix, and
/// a reusable completion (one record in flight per producer, so nothing is allocated per record).</summary>
internal sealed class GroupCommitWaiter : IValueTaskSource<long>
{
    private readonly byte[] _prefix = new byte[GroupCommitFile.PrefixSize];
    private ManualResetValueTaskSourceCore<long> _completion = new() { RunContinuationsAsynchronously = true };

    public ReadOnlyMemory<byte> Prefix => _prefix;

    public ReadOnlyMemory<byte> Record { get; private set; }

    public ValueTask<long> Prepare(ReadOnlyMemory<byte> record)
    {
        Record = record;
        BinaryPrimitives.WriteInt32LittleEndian(_prefix, record.Length);
        _completion.Reset();
        return new ValueTask<long>(this, _completion.Version);
    }

    public void Complete(long offset) => _completion.SetResult(offset);

    public void Fail(Exception error) => _completion.SetException(error);

    public long GetResult(short token) => _completion.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _completion.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags) => _completion.OnCompleted(continuation, state, token, flags);
}
