using System.Collections.Concurrent;
using FASTER.core;
using FastSpool.Posix;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Queue;

/// <summary>The log's storage: one file per segment (<c>q.log.N</c>, the names FASTER's own device uses), written
/// with <c>pwrite</c> + <c>fdatasync</c> on the calling thread and completed there (FASTER's in-memory devices
/// complete inline too). FASTER's device for Linux opens the files <c>O_SYNC</c> (every write also waits for the
/// file times to reach the disk) and passes each write to the thread pool and its completion back: a commit paid
/// two thread hops and a metadata write more than it needs. Writes larger than <see cref="InlineWriteLimit"/>
/// (whole pages while the log fills) still go to the thread pool, so that a session never blocks on megabytes of
/// I/O. Any error is reported to FASTER as the write's error code, which fails the commit.</summary>
internal sealed unsafe class SegmentFileDevice : StorageDeviceBase
{
    internal const uint InlineWriteLimit = 256 * 1024;

    private readonly ConcurrentDictionary<int, SafeFileHandle> _handles = new();
    private readonly Lock _open = new();
    private int _disposed;

    public SegmentFileDevice(string baseName)
        : base(baseName, 512, Devices.CAPACITY_UNSPECIFIED)
    {
    }

    public override bool Throttle() => false;

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite,
        DeviceIOCompletionCallback callback, object context)
    {
        if (numBytesToWrite <= InlineWriteLimit)
        {
            Write(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context);
            return;
        }
        ThreadPool.UnsafeQueueUserWorkItem(
            _ => Write(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context), null);
    }

    private void Write(IntPtr source, int segmentId, ulong destination, uint length, DeviceIOCompletionCallback callback, object context)
    {
        uint error = 0;
        try
        {
            SafeFileHandle handle = Handle(segmentId);
            RandomAccess.Write(handle, new ReadOnlySpan<byte>((void*)source, (int)length), (long)destination);
            int errno = Libc.FDataSync(handle);
            if (errno != 0)
                error = (uint)errno;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            error = ErrorCode(e);
        }
        callback(error, error == 0 ? length : 0, context);
    }

    public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength,
        DeviceIOCompletionCallback callback, object context)
    {
        uint error = 0;
        try
        {
            var destination = new Span<byte>((void*)destinationAddress, (int)readLength);
            int total = 0;
            SafeFileHandle handle = Handle(segmentId);
            while (total < destination.Length)
            {
                int read = RandomAccess.Read(handle, destination[total..], (long)sourceAddress + total);
                if (read == 0)
                    break;
                total += read;
            }
            // Past the end of a segment reads as zeros, as from a preallocated file: the log ends there.
            destination[total..].Clear();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            error = ErrorCode(e);
        }
        callback(error, error == 0 ? readLength : 0, context);
    }

    public override void RemoveSegment(int segment)
    {
        if (_handles.TryRemove(segment, out SafeFileHandle? handle))
            handle.Dispose();
        try
        {
            File.Delete(GetSegmentFilename(FileName, segment));
        }
        catch (IOException)
        {
            // Space comes back on the next truncation that finds the file.
        }
    }

    public override void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result)
    {
        RemoveSegment(segment);
        callback(result);
    }

    public override long GetFileSize(int segment) =>
        SegmentSize > 0 ? SegmentSize : new FileInfo(GetSegmentFilename(FileName, segment)).Length;

    private SafeFileHandle Handle(int segmentId)
    {
        if (_handles.TryGetValue(segmentId, out SafeFileHandle? handle))
            return handle;
        using (_open.EnterScope())
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (!_handles.TryGetValue(segmentId, out handle))
            {
                // 0600: a segment holds the text of every message in it, delivered ones too, until it is removed.
                string path = GetSegmentFilename(FileName, segmentId);
                int errno = Libc.Open(path, OpenFlags.ReadWrite | OpenFlags.Create | OpenFlags.CloseOnExec, PrivateModes.File, out SafeFileHandle? opened);
                if (opened is null)
                    Libc.ThrowIO(path, "open", errno);
                handle = opened;
                _handles[segmentId] = handle;
            }
            return handle;
        }
    }

    /// <summary>The errno behind a failed call when .NET kept it (IOException's HResult on Unix), else EIO;
    /// FASTER only needs it to be non-zero.</summary>
    private static uint ErrorCode(Exception e) => e is IOException && e.HResult is > 0 and < 4096 ? (uint)e.HResult : (uint)Errno.EIO;

    public override void Dispose()
    {
        using (_open.EnterScope())
        {
            _disposed = 1;
            foreach (SafeFileHandle handle in _handles.Values)
                handle.Dispose();
            _handles.Clear();
        }
    }
}
