using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Perf.Queue;

/// <summary>The physical reference for the queue: an append-only file with group commit. Producers queue their
/// record; one writer loop takes everything queued, writes it with one gathered
/// <see cref="RandomAccess.Write(SafeFileHandle, IReadOnlyList{ReadOnlyMemory{byte}}, long)"/> (pwritev, each
/// record behind a 4-byte length), fsyncs, and completes the waiters. No framing beyond the length, no recovery:
/// the least any durable queue has to do.</summary>
internal sealed class GroupCommitFile : IAsyncDisposable
{
    public const int PrefixSize = 4;

    private readonly SafeFileHandle _handle;
    private readonly Channel<GroupCommitWaiter> _queued =
        Channel.CreateUnbounded<GroupCommitWaiter>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<GroupCommitWaiter> _batch = [];
    private readonly List<ReadOnlyMemory<byte>> _gather = [];
    private readonly Task _writer;
    private long _length;

    public GroupCommitFile(string path)
    {
        _handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write);
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Number of fsyncs so far.</summary>
    public long Commits { get; private set; }

    /// <summary>Number of records made durable so far.</summary>
    public long Records { get; private set; }

    /// <summary>Completes with the record's file offset once an fsync covers it.</summary>
    public ValueTask<long> AppendDurableAsync(GroupCommitWaiter waiter, ReadOnlyMemory<byte> record)
    {
        ValueTask<long> durable = waiter.Prepare(record);
        if (!_queued.Writer.TryWrite(waiter))
            waiter.Fail(new ObjectDisposedException(nameof(GroupCommitFile)));
        return durable;
    }

    private async Task WriteLoopAsync()
    {
        ChannelReader<GroupCommitWaiter> queued = _queued.Reader;
        while (await queued.WaitToReadAsync().ConfigureAwait(false))
        {
            long bytes = 0;
            while (queued.TryRead(out GroupCommitWaiter? waiter))
            {
                _batch.Add(waiter);
                _gather.Add(waiter.Prefix);
                _gather.Add(waiter.Record);
                bytes += PrefixSize + waiter.Record.Length;
            }

            try
            {
                RandomAccess.Write(_handle, _gather, _length);
                RandomAccess.FlushToDisk(_handle);
                Commits++;
                Records += _batch.Count;
                long offset = _length;
                _length += bytes;
                foreach (GroupCommitWaiter waiter in _batch)
                {
                    // Read the length first: once completed, the producer may already reuse the waiter.
                    long next = offset + PrefixSize + waiter.Record.Length;
                    waiter.Complete(offset);
                    offset = next;
                }
            }
            catch (IOException e)
            {
                foreach (GroupCommitWaiter waiter in _batch)
                    waiter.Fail(e);
            }
            _batch.Clear();
            _gather.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queued.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _handle.Dispose();
    }
}
