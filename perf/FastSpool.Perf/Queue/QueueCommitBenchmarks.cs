using FastSpool.Configuration;
using BenchmarkDotNet.Attributes;
using FastSpool.Perf.Infrastructure;
using FastSpool.Queue;

namespace FastSpool.Perf.Queue;

/// <summary>Durable enqueue with group commit, in /tmp. Each invocation starts <see cref="Producers"/> concurrent
/// producers and runs them to completion; together they commit <see cref="RecordsPerInvocation"/> envelope
/// records (1 KiB inline body, 1,160 bytes each), each producer awaiting its record's durability before
/// writing the next, as a session awaits the commit before its 250 reply. One operation is one durable record,
/// so Op/s is records per second. <see cref="MailQueueCommit"/> is FastSpool's queue
/// (<see cref="MailQueue.CommitEnvelopeAsync"/> on <see cref="FasterQueueLog"/> with its default options);
/// the baseline is <see cref="GroupCommitFile"/>, the same records through a hand-written pwritev + fsync
/// group commit.</summary>
[MemoryDiagnoser]
[InvocationCount(4)]
public class QueueCommitBenchmarks
{
    public const int RecordsPerInvocation = 2048;

    private readonly QueueIdGenerator _ids = new();
    private string _directory = "";
    private EnvelopeProducer[] _producers = [];
    private Task[] _running = [];
    private MailQueue? _queue;
    private GroupCommitFile? _file;

    [Params(16, 128)]
    public int Producers { get; set; }

    [GlobalSetup(Target = nameof(MailQueueCommit))]
    public void OpenQueue()
    {
        CreateProducers();
        FasterQueueLog log = FasterQueueLog.OpenAsync(Path.Combine(_directory, "queue"), new QueueOptions()).GetAwaiter().GetResult();
        (_queue, _) = MailQueue.OpenAsync(log).GetAwaiter().GetResult();
    }

    [GlobalSetup(Target = nameof(GroupCommitFileCommit))]
    public void OpenFile()
    {
        CreateProducers();
        _file = new GroupCommitFile(Path.Combine(_directory, "group-commit.log"));
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RecordsPerInvocation)]
    public Task GroupCommitFileCommit() => Run(static (self, producer, count) => self.ProduceIntoFileAsync(producer, count));

    [Benchmark(OperationsPerInvoke = RecordsPerInvocation)]
    public Task MailQueueCommit() => Run(static (self, producer, count) => self.ProduceIntoQueueAsync(producer, count));

    [GlobalCleanup]
    public void Cleanup()
    {
        _queue?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _queue = null;
        if (_file is not null)
        {
            _file.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Console.WriteLine($"// group commit file, {Producers} producers: {_file.Records} records in {_file.Commits} fsyncs, " +
                $"{(double)_file.Records / Math.Max(1, _file.Commits):0.0} records per fsync");
            _file = null;
        }
        Directory.Delete(_directory, recursive: true);
    }

    private void CreateProducers()
    {
        _directory = Directory.CreateTempSubdirectory("fastspool-perf-queue-").FullName;
        byte[] body = SampleMessages.QueuedMessage(16 * 1024, fromLineEvery: 0);
        _producers = new EnvelopeProducer[Producers];
        for (int i = 0; i < _producers.Length; i++)
            _producers[i] = new EnvelopeProducer(body);
        _running = new Task[Producers];
    }

    private Task Run(Func<QueueCommitBenchmarks, EnvelopeProducer, int, Task> produce)
    {
        int each = RecordsPerInvocation / Producers;
        for (int i = 0; i < _producers.Length; i++)
            _running[i] = produce(this, _producers[i], each);
        return Task.WhenAll(_running);
    }

    private async Task ProduceIntoQueueAsync(EnvelopeProducer producer, int count)
    {
        MailQueue queue = _queue!;
        for (int i = 0; i < count; i++)
        {
            int length = producer.WriteEnvelope(_ids.Next());
            await queue.Log.AppendDurableAsync(producer.Record.AsMemory(0, length)).ConfigureAwait(false);
        }
    }

    private async Task ProduceIntoFileAsync(EnvelopeProducer producer, int count)
    {
        GroupCommitFile file = _file!;
        for (int i = 0; i < count; i++)
        {
            int length = producer.WriteEnvelope(_ids.Next());
            await file.AppendDurableAsync(producer.Waiter, producer.Record.AsMemory(0, length)).ConfigureAwait(false);
        }
    }
}
