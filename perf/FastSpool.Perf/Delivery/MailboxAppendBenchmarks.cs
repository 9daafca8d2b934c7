using BenchmarkDotNet.Attributes;
using FastSpool.Delivery.Mbox;
using FastSpool.Perf.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Perf.Delivery;

/// <summary>Durable mbox appends in /tmp: <see cref="MailboxFile.Append(ReadOnlySpan{ReadOnlyMemory{byte}})"/>
/// (locked mailbox; posix_fallocate, write through a shared mapping, munmap, fsync) against the plain
/// baseline of the same bytes, <see cref="RandomAccess.Write(SafeFileHandle, ReadOnlySpan{byte}, long)"/> at the
/// end of the file plus fsync. Both files start empty at each iteration and grow by one entry per operation.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(InvocationsPerIteration)]
public class MailboxAppendBenchmarks
{
    private const int InvocationsPerIteration = 64;

    private string _directory = "";
    private ReadOnlyMemory<byte>[] _entry = [];
    private MailboxFile? _mailbox;
    private SafeFileHandle? _plain;
    private long _plainLength;

    [Params(10 * 1024, SampleMessages.OneMiB)]
    public int EntryBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("fastspool-perf-mbox-").FullName;
        _entry = [SampleMessages.MboxEntry(EntryBytes)];
    }

    [IterationSetup(Target = nameof(MailboxFileAppend))]
    public void OpenEmptyMailbox()
    {
        _mailbox?.Dispose();
        string path = Path.Combine(_directory, "mailbox");
        File.Delete(path);
        MailboxOpenResult result = MailboxFile.TryOpen(path, TimeSpan.FromSeconds(5), out _mailbox, out string? error);
        if (result != MailboxOpenResult.Opened)
            throw new InvalidOperationException($"cannot open the benchmark mailbox: {error}");
    }

    [IterationSetup(Target = nameof(WriteAndFsync))]
    public void OpenEmptyFile()
    {
        _plain?.Dispose();
        _plain = File.OpenHandle(Path.Combine(_directory, "plain"), FileMode.Create, FileAccess.Write);
        _plainLength = 0;
    }

    [Benchmark(Baseline = true)]
    public long WriteAndFsync()
    {
        ReadOnlySpan<byte> entry = _entry[0].Span;
        RandomAccess.Write(_plain!, entry, _plainLength);
        RandomAccess.FlushToDisk(_plain!);
        _plainLength += entry.Length;
        return _plainLength;
    }

    [Benchmark]
    public long MailboxFileAppend()
    {
        _mailbox!.Append(_entry);
        return _mailbox.Length;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _mailbox?.Dispose();
        _mailbox = null;
        _plain?.Dispose();
        _plain = null;
        Directory.Delete(_directory, recursive: true);
    }
}
