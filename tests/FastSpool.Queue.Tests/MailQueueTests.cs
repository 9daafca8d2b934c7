using System.Buffers;
using System.Text;
using FastSpool.Configuration;

namespace FastSpool.Queue.Tests;

public sealed class MailQueueTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Dir => _dir.Path;

    private static QueueOptions Options(bool fast = true) => new()
    {
        PageSizeBits = 20,
        MemorySizeBits = 22,
        SegmentSizeBits = 20,
        FastCommit = fast,
    };

    private Task<FasterQueueLog> OpenLogAsync(bool fast = true) => FasterQueueLog.OpenAsync(Dir, Options(fast));

    private static async Task<(MailQueue Queue, RecoveredQueue Recovered)> OpenQueueAsync(IQueueLog log)
    {
        (MailQueue queue, RecoveredQueue recovered) = await MailQueue.OpenAsync(log);
        queue.Sink = new Collector();
        return (queue, recovered);
    }

    private sealed class Collector : IQueueSink
    {
        public List<QueuedMessage> Messages { get; } = [];

        public void Accept(QueuedMessage message)
        {
            lock (Messages)
                Messages.Add(message);
        }
    }

    /// <summary>Submits a message through the writer, flushing a chunk every <paramref name="chunkSize"/> octets.</summary>
    private static async Task<QueuedMessage> AcceptAsync(MailQueue queue, string sender, string[] recipients, byte[] body, int chunkSize,
        string[]? orcpt = null, NotifyFlags notify = NotifyFlags.None, DeliveryReport? reports = null)
    {
        MessageWriter writer = queue.RentWriter();
        try
        {
            writer.Begin(DateTimeOffset.UtcNow, long.MaxValue);
            int offset = 0;
            while (body.Length - offset > chunkSize)
            {
                await writer.WriteAsync(body.AsMemory(offset, chunkSize));
                await writer.FlushChunkAsync();
                offset += chunkSize;
            }
            await writer.WriteAsync(body.AsMemory(offset));
            var rcpts = new RecipientList();
            for (int i = 0; i < recipients.Length; i++)
                rcpts.Add(Encoding.UTF8.GetBytes(recipients[i]), orcpt is null ? default : Encoding.UTF8.GetBytes(orcpt[i]), notify);
            writer.Seal(new SubmissionEnvelope
            {
                Sender = Encoding.UTF8.GetBytes(sender),
                Recipients = rcpts,
                Origin = reports is null ? MessageOrigin.Smtp : MessageOrigin.Bounce,
                ClientAddress = "127.0.0.1"u8,
                ClientHelo = "client.test"u8,
                EnvelopeId = "env-1"u8,
                Return = ReturnContent.Full,
                EightBitMime = true,
                Reports = reports,
            });
            return await writer.CommitAsync();
        }
        finally
        {
            queue.ReturnWriter(writer);
        }
    }

    private static byte[] Body(int size, int seed)
    {
        var rng = new Random(seed);
        byte[] body = new byte[size];
        rng.NextBytes(body);
        return body;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CommittedMessagesAreRecoveredWithTheirBodies(bool fastCommit)
    {
        byte[] small = Body(1000, 1);
        byte[] large = Body(700_000, 2);
        QueueId smallId, largeId;
        {
            await using FasterQueueLog log = await OpenLogAsync(fastCommit);
            (MailQueue queue, RecoveredQueue recovered) = await OpenQueueAsync(log);
            Assert.Empty(recovered.Messages);
            smallId = (await AcceptAsync(queue, "a@example.org", ["x@localhost"], small, 256 * 1024)).Id;
            largeId = (await AcceptAsync(queue, "", ["y@localhost", "z@localhost"], large, 256 * 1024)).Id;
        }
        {
            await using FasterQueueLog log = await OpenLogAsync(fastCommit);
            (MailQueue queue, RecoveredQueue recovered) = await OpenQueueAsync(log);
            Assert.Equal(0, recovered.DamagedRecords);
            Assert.Equal([smallId, largeId], recovered.Messages.Select(m => m.Id));
            QueuedMessage l = recovered.Messages[1];
            Assert.Equal("", l.Sender);
            Assert.Equal(["y@localhost", "z@localhost"], l.Recipients.Select(r => r.Address));
            Assert.All(l.Recipients, r => Assert.Equal(RecipientStatus.Pending, r.Status));
            Assert.Equal("env-1", l.EnvelopeId);
            Assert.Equal(ReturnContent.Full, l.Return);
            Assert.Equal(MessageOrigin.Smtp, l.Origin);
            Assert.True(l.EightBitMime);
            Assert.Equal(2, l.ChunkAddresses.Length);
            Assert.True(l.FirstAddress < l.EnvelopeAddress);
            using MessageBody body = await queue.ReadBodyAsync(l);
            Assert.Equal(large, body.Content.ToArray());
            using MessageBody body2 = await queue.ReadBodyAsync(recovered.Messages[0]);
            Assert.Equal(small, body2.Content.ToArray());
            Assert.True(queue.NextId().Value > largeId.Value);
        }
    }

    [Fact]
    public async Task UncommittedRecordsAreGoneAfterAnUncleanStop()
    {
        {
            FasterQueueLog log = await OpenLogAsync();
            (MailQueue queue, _) = await OpenQueueAsync(log);
            await AcceptAsync(queue, "a@b.c", ["p@localhost"], Body(10, 5), 4096);
            // A chunk appended without a commit: as if the process died before the envelope.
            byte[] record = new byte[QueueRecord.HeaderSize + 100];
            await queue.AppendChunkAsync(record, queue.NextId(), 0, 100);
            // No dispose: the process "dies". (The FasterLog instance is abandoned.)
        }
        await using FasterQueueLog log2 = await OpenLogAsync();
        (_, RecoveredQueue recovered) = await OpenQueueAsync(log2);
        Assert.Single(recovered.Messages);
    }

    [Fact]
    public async Task SegmentFilesWithoutACommitRefuseToOpen()
    {
        await File.WriteAllBytesAsync(Path.Combine(_dir.Path, "q.log.0"), new byte[4096]);
        QueueOpenException e = await Assert.ThrowsAsync<QueueOpenException>(() => OpenLogAsync());
        Assert.Contains("no commit", e.Message);
    }

    [Fact]
    public async Task ReclaimingSpaceDeletesOldSegments()
    {
        await using FasterQueueLog log = await OpenLogAsync();
        (MailQueue queue, _) = await OpenQueueAsync(log);
        for (int i = 0; i < 12; i++)
            await AcceptAsync(queue, "a@b.c", ["p@localhost"], Body(200_000, i), 256 * 1024);
        int before = Directory.GetFiles(_dir.Path, "q.log.*").Length;
        Assert.True(before >= 3, $"{before} segments");
        queue.ReclaimSpace(log.TailAddress);
        await queue.RecordRemovedAsync(queue.NextId(), "test"); // forces a commit after the truncation
        await Wait.UntilAsync(() => Directory.GetFiles(_dir.Path, "q.log.*").Length < before, TimeSpan.FromSeconds(10),
            "reclaiming to delete old segment files");
        Assert.True(Directory.GetFiles(_dir.Path, "q.log.*").Length < before);
    }

    [Fact]
    public async Task AReceptionInProgressIsNotReclaimed()
    {
        await using FasterQueueLog log = await OpenLogAsync();
        (MailQueue queue, _) = await OpenQueueAsync(log);
        await AcceptAsync(queue, "a@b.c", ["p@localhost"], Body(100, 1), 4096);
        long bound = queue.BeginReception();
        await AcceptAsync(queue, "a@b.c", ["p@localhost"], Body(100, 2), 4096);
        queue.ReclaimSpace(long.MaxValue);
        Assert.True(log.BeginAddress <= bound, $"truncated to {log.BeginAddress}, past the reception at {bound}");
        queue.EndReception(bound);
    }

    [Fact]
    public async Task TheLogIsReadBackWithThePageSizeItWasWrittenWith()
    {
        byte[] body = Body(300_000, 9);
        {
            await using FasterQueueLog log = await OpenLogAsync();
            (MailQueue queue, _) = await OpenQueueAsync(log);
            for (int i = 0; i < 8; i++)
                await AcceptAsync(queue, "a@b.c", ["p@localhost"], body, 256 * 1024);
        }
        QueueOptions other = Options();
        other.PageSizeBits = 22;
        other.SegmentSizeBits = 24;
        other.MemorySizeBits = 24;
        await using FasterQueueLog reopened = await FasterQueueLog.OpenAsync(Dir, other);
        (MailQueue q2, RecoveredQueue recovered) = await OpenQueueAsync(reopened);
        Assert.Equal(8, recovered.Messages.Count);
        using MessageBody read = await q2.ReadBodyAsync(recovered.Messages[7]);
        Assert.Equal(body, read.Content.ToArray());
    }

    [Fact]
    public async Task SmallMessagesAreKeptInMemoryWithinTheBudgetAndLargeOnesAreReadFromTheLog()
    {
        await using FasterQueueLog log = await OpenLogAsync();
        (MailQueue queue, _) = await OpenQueueAsync(log);
        queue.ResidentBudget = 3000;
        byte[][] bodies = [Body(1000, 1), Body(1500, 2), Body(1000, 3), Body(5000, 4)];
        QueuedMessage[] messages =
        [
            await AcceptAsync(queue, "a@example.test", ["b@example.test"], bodies[0], 64 * 1024),
            await AcceptAsync(queue, "a@example.test", ["b@example.test"], bodies[1], 64 * 1024),
            await AcceptAsync(queue, "a@example.test", ["b@example.test"], bodies[2], 64 * 1024), // over the budget
            await AcceptAsync(queue, "a@example.test", ["b@example.test"], bodies[3], 2048), // in chunks
        ];
        Assert.NotNull(messages[0].Resident);
        Assert.NotNull(messages[1].Resident);
        Assert.Null(messages[2].Resident);
        Assert.Null(messages[3].Resident);
        long kept = queue.ResidentBytes;
        Assert.InRange(kept, 2500, 3000);
        for (int i = 0; i < messages.Length; i++)
        {
            using MessageBody body = await queue.ReadBodyAsync(messages[i]);
            Assert.Equal(bodies[i], body.Content.ToArray());
        }

        queue.ReleaseResident(messages[0]);
        Assert.Null(messages[0].Resident);
        Assert.True(queue.ResidentBytes < kept);
        using (MessageBody fromLog = await queue.ReadBodyAsync(messages[0]))
            Assert.Equal(bodies[0], fromLog.Content.ToArray());
        foreach (QueuedMessage message in messages)
            queue.ReleaseResident(message);
        Assert.Equal(0, queue.ResidentBytes);
    }

    [Fact]
    public async Task ABodyReadFromMemoryStaysIntactAfterItsMessageIsReleased()
    {
        await using FasterQueueLog log = await OpenLogAsync();
        (MailQueue queue, _) = await OpenQueueAsync(log);
        byte[] first = Body(1000, 1);
        QueuedMessage message = await AcceptAsync(queue, "a@example.test", ["b@example.test"], first, 64 * 1024);
        using (MessageBody body = await queue.ReadBodyAsync(message))
        {
            queue.ReleaseResident(message);
            Assert.Null(message.Resident);
            // The next message is kept in a buffer of the same size: not the one still being read.
            QueuedMessage next = await AcceptAsync(queue, "a@example.test", ["b@example.test"], Body(1000, 2), 64 * 1024);
            Assert.NotNull(next.Resident);
            Assert.Equal(first, body.Content.ToArray());
            queue.ReleaseResident(next);
            Assert.InRange(queue.ResidentBytes, 1000, 1200);
        }
        Assert.Equal(0, queue.ResidentBytes);
    }

    [Fact]
    public async Task SegmentsRollAreReadBackAfterReopeningAndTruncationRemovesTheirFiles()
    {
        var addresses = new List<long>();
        byte[] record = new byte[60_000];
        await using (FasterQueueLog log = await OpenLogAsync())
        {
            for (int i = 0; i < 60; i++) // about 3.6 MB: four 1 MiB segments
            {
                record.AsSpan().Fill((byte)i);
                addresses.Add(await log.AppendDurableAsync(record));
            }
            Assert.True(File.Exists(Path.Combine(_dir.Path, "q.log.3")));
            log.TruncateUntil(addresses[40]);
            await Wait.UntilAsync(() => !File.Exists(Path.Combine(_dir.Path, "q.log.0")), TimeSpan.FromSeconds(10),
                "truncation to delete the first segment file");
        }

        await using FasterQueueLog reopened = await OpenLogAsync();
        for (int i = 40; i < 60; i++)
        {
            (IMemoryOwner<byte> owner, int length) = await reopened.ReadAsync(addresses[i]);
            using (owner)
            {
                Assert.Equal(record.Length, length);
                Assert.True(owner.Memory.Span[..length].IndexOfAnyExcept((byte)i) < 0, $"record {i} came back damaged");
            }
        }
        long next = await reopened.AppendDurableAsync(record);
        Assert.True(next > addresses[^1]);
    }
}
