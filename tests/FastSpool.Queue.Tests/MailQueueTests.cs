using System.Buffers;
using System.Text;

namespace FastSpool.Queue.Tests;

public sealed class MailQueueTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private QueueLogOptions Options(bool fast = true) => new()
    {
        Directory = _dir.Path,
        PageSizeBits = 20,
        MemorySizeBits = 22,
        SegmentSizeBits = 20,
        FastCommit = fast,
    };

    private static async Task<QueuedMessage> AcceptAsync(MailQueue queue, string sender, string[] recipients, byte[] body, int chunkSize, bool keepResident = false)
    {
        QueueId id = queue.NextId();
        long bound = queue.BeginReception();
        try
        {
            var chunks = new List<long>();
            int offset = 0;
            while (body.Length - offset > chunkSize)
            {
                byte[] record = new byte[QueueRecord.HeaderSize + chunkSize];
                body.AsSpan(offset, chunkSize).CopyTo(record.AsSpan(QueueRecord.HeaderSize));
                chunks.Add(await queue.AppendChunkAsync(record, id, (uint)chunks.Count, chunkSize));
                offset += chunkSize;
            }
            var rcpts = new RecipientList();
            foreach (string r in recipients)
                rcpts.Add(Encoding.UTF8.GetBytes(r));
            int tail = body.Length - offset;
            byte[] envelope = new byte[QueueRecord.HeaderSize + tail + 4096];
            body.AsSpan(offset).CopyTo(envelope.AsSpan(QueueRecord.HeaderSize));
            var fields = new EnvelopeFields
            {
                Id = id,
                Arrival = DateTimeOffset.UtcNow,
                Size = body.Length,
                Sender = Encoding.UTF8.GetBytes(sender),
                Recipients = rcpts,
                ClientAddress = "127.0.0.1"u8,
                ClientHelo = "client.test"u8,
                ChunkAddresses = chunks.ToArray(),
                EightBitMime = true,
            };
            int length = MailQueue.WriteEnvelope(envelope, fields, tail);
            long address = await queue.CommitEnvelopeAsync(envelope.AsMemory(0, length));
            Assert.True(QueueRecord.TryRead(envelope.AsSpan(0, length), out QueueRecordHeader header));
            QueuedMessage message = MailQueue.ReadEnvelope(address, envelope.AsSpan(0, length), header);
            if (keepResident)
                queue.KeepResident(message, envelope.AsSpan(0, length));
            return message;
        }
        finally
        {
            queue.EndReception(bound);
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
            await using FasterQueueLog log = await FasterQueueLog.OpenAsync(Options(fastCommit));
            (MailQueue queue, RecoveredQueue recovered) = await MailQueue.OpenAsync(log);
            Assert.Empty(recovered.Messages);
            smallId = (await AcceptAsync(queue, "a@example.org", ["x@localhost"], small, 256 * 1024)).Id;
            largeId = (await AcceptAsync(queue, "", ["y@localhost", "z@localhost"], large, 256 * 1024)).Id;
        }
        {
            await using FasterQueueLog log = await FasterQueueLog.OpenAsync(Options(fastCommit));
            (MailQueue queue, RecoveredQueue recovered) = await MailQueue.OpenAsync(log);
            Assert.Equal(0, recovered.DamagedRecords);
            Assert.Equal([smallId, largeId], recovered.Messages.Select(m => m.Id));
            QueuedMessage l = recovered.Messages[1];
            Assert.Equal("", l.Sender);
            Assert.Equal(["y@localhost", "z@localhost"], l.Recipients);
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
    public async Task FinishedRecipientsAndRemovedMessagesStayFinishedAfterRecovery()
    {
        QueuedMessage kept, removed;
        {
            await using FasterQueueLog log = await FasterQueueLog.OpenAsync(Options());
            (MailQueue queue, _) = await MailQueue.OpenAsync(log);
            kept = await AcceptAsync(queue, "a@b.c", ["p@localhost", "q@localhost"], Body(10, 3), 4096);
            removed = await AcceptAsync(queue, "a@b.c", ["r@localhost"], Body(10, 4), 4096);
            await queue.RecordDoneAsync(kept.Id, 0, "p", RecipientOutcome.Delivered);
            await queue.RecordRemovedAsync(removed.Id);
            await queue.RecordIntentAsync(new DeliveryIntent("/m/q", 10, 20, 1234, [new DeliveryIntentEntry(kept.Id, 1, "q")]));
        }
        await using FasterQueueLog log2 = await FasterQueueLog.OpenAsync(Options());
        (_, RecoveredQueue recovered) = await MailQueue.OpenAsync(log2);
        QueuedMessage m = Assert.Single(recovered.Messages);
        Assert.Equal(kept.Id, m.Id);
        Assert.True(m.IsDone(0, "p"));
        Assert.False(m.IsDone(1, "q"));
        DeliveryIntent intent = Assert.Single(recovered.UnfinishedIntents);
        Assert.Equal(("/m/q", 10L, 20L, 1234u), (intent.MailboxPath, intent.Offset, intent.Length, intent.Crc));
    }

    [Fact]
    public async Task UncommittedRecordsAreGoneAfterAnUncleanStop()
    {
        {
            FasterQueueLog log = await FasterQueueLog.OpenAsync(Options());
            (MailQueue queue, _) = await MailQueue.OpenAsync(log);
            await AcceptAsync(queue, "a@b.c", ["p@localhost"], Body(10, 5), 4096);
            // A chunk appended without a commit: as if the process died before the envelope.
            byte[] record = new byte[QueueRecord.HeaderSize + 100];
            await queue.AppendChunkAsync(record, queue.NextId(), 0, 100);
            // No dispose: the process "dies". (The FasterLog instance is abandoned.)
        }
        await using FasterQueueLog log2 = await FasterQueueLog.OpenAsync(Options());
        (_, RecoveredQueue recovered) = await MailQueue.OpenAsync(log2);
        Assert.Single(recovered.Messages);
    }

    [Fact]
    public async Task SegmentFilesWithoutACommitRefuseToOpen()
    {
        await File.WriteAllBytesAsync(Path.Combine(_dir.Path, "q.log.0"), new byte[4096]);
        QueueOpenException e = await Assert.ThrowsAsync<QueueOpenException>(() => FasterQueueLog.OpenAsync(Options()));
        Assert.Contains("no commit", e.Message);
    }

    [Fact]
    public async Task ReclaimingSpaceDeletesOldSegments()
    {
        await using FasterQueueLog log = await FasterQueueLog.OpenAsync(Options());
        (MailQueue queue, _) = await MailQueue.OpenAsync(log);
        for (int i = 0; i < 12; i++)
            await AcceptAsync(queue, "a@b.c", ["p@localhost"], Body(200_000, i), 256 * 1024);
        int before = Directory.GetFiles(_dir.Path, "q.log.*").Length;
        Assert.True(before >= 3, $"{before} segments");
        queue.ReclaimSpace(log.TailAddress);
        await queue.RecordRemovedAsync(queue.NextId()); // forces a commit after the truncation
        await Wait.UntilAsync(() => Directory.GetFiles(_dir.Path, "q.log.*").Length < before, TimeSpan.FromSeconds(10),
            "reclaiming to delete old segment files");
        Assert.True(Directory.GetFiles(_dir.Path, "q.log.*").Length < before);
    }

    [Fact]
    public async Task AReceptionInProgressIsNotReclaimed()
    {
        await using FasterQueueLog log = await FasterQueueLog.OpenAsync(Options());
        (MailQueue queue, _) = await MailQueue.OpenAsync(log);
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
            await using FasterQueueLog log = await FasterQueueLog.OpenAsync(Options());
            (MailQueue queue, _) = await MailQueue.OpenAsync(log);
            for (int i = 0; i < 8; i++)
                await AcceptAsync(queue, "a@b.c", ["p@localhost"], body, 256 * 1024);
        }
        QueueLogOptions other = Options();
        other.PageSizeBits = 22;
        other.SegmentSizeBits = 24;
        other.MemorySizeBits = 24;
        await using FasterQueueLog reopened = await FasterQueueLog.OpenAsync(other);
        (MailQueue q2, RecoveredQueue recovered) = await MailQueue.OpenAsync(reopened);
        Assert.Equal(8, recovered.Messages.Count);
        using MessageBody read = await q2.ReadBodyAsync(recovered.Messages[7]);
        Assert.Equal(body, read.Content.ToArray());
    }

    [Fact]
    public async Task SmallMessagesAreKeptInMemoryWithinTheBudgetAndLargeOnesAreReadFromTheLog()
    {
        await using FasterQueueLog log = await FasterQueueLog.OpenAsync(Options());
        (MailQueue queue, _) = await MailQueue.OpenAsync(log);
        queue.ResidentBudget = 3000;
        byte[][] bodies = [Body(1000, 1), Body(1500, 2), Body(1000, 3), Body(5000, 4)];
        QueuedMessage[] messages =
        [
            await AcceptAsync(queue, "a@example.test", ["b@example.test"], bodies[0], 64 * 1024, keepResident: true),
            await AcceptAsync(queue, "a@example.test", ["b@example.test"], bodies[1], 64 * 1024, keepResident: true),
            await AcceptAsync(queue, "a@example.test", ["b@example.test"], bodies[2], 64 * 1024, keepResident: true), // over the budget
            await AcceptAsync(queue, "a@example.test", ["b@example.test"], bodies[3], 2048, keepResident: true), // in chunks
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
    public async Task SegmentsRollAreReadBackAfterReopeningAndTruncationRemovesTheirFiles()
    {
        var addresses = new List<long>();
        byte[] record = new byte[60_000];
        await using (FasterQueueLog log = await FasterQueueLog.OpenAsync(Options()))
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

        await using FasterQueueLog reopened = await FasterQueueLog.OpenAsync(Options());
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
