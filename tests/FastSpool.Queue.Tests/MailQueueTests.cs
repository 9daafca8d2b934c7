using System.Buffers;
using System.Text;
using FastSpool.Configuration;
using FastSpool.Protocols.Smtp;

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
        string[]? orcpt = null, DsnNotify notify = DsnNotify.None, DeliveryReport? reports = null)
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
                Return = DsnReturn.Full,
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
            Assert.Equal(DsnReturn.Full, l.Return);
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

    private static readonly DeliveryReply LostConnection =
        new(451, "4.4.2", "lost connection with mx.example.org[192.0.2.1]:25 during DATA", "mx.example.org[192.0.2.1]:25") { FromHost = false };

    [Fact]
    public async Task RecipientStatesHoldsPartsAndNoticesComeBackAfterRecovery()
    {
        DateTimeOffset now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
        QueuedMessage message, removed;
        {
            await using FasterQueueLog log = await OpenLogAsync();
            (MailQueue queue, _) = await OpenQueueAsync(log);
            message = await AcceptAsync(queue, "s@example.org", ["a@localhost", "b@localhost", "c@localhost"], Body(100, 1), 4096,
                orcpt: ["rfc822;a@example.org", "rfc822;b@example.org", "rfc822;c@example.org"], notify: DsnNotify.Success | DsnNotify.Failure);
            removed = await AcceptAsync(queue, "s@example.org", ["d@localhost"], Body(100, 2), 4096);
            var deferred = new QueuedRecipient { Address = "a@localhost", Status = RecipientStatus.Deferred, Attempts = 3,
                NextAttempt = now.AddMinutes(20), LastReply = LostConnection };
            await queue.RecordRecipientStateAsync(message.Id, 0, deferred, now);
            var sent = new QueuedRecipient { Address = "b@localhost", Status = RecipientStatus.Sent, Attempts = 1,
                LastReply = new DeliveryReply(250, "2.0.0", "delivered to mailbox b") };
            await queue.RecordRecipientStateAsync(message.Id, 1, sent, now);
            await queue.RecordPartDoneAsync(message.Id, 2, "c1");
            await queue.RecordControlAsync(message.Id, MessageControlAction.Hold, now, "uid 0");
            await queue.RecordJournalAsync("local", new byte[] { 1, 2, 3 }, [new JournalEntry(message.Id, 2, "c2"), new JournalEntry(message.Id, 2, "c1")]);
            await queue.RecordJournalAsync("local", new byte[] { 4 }, [new JournalEntry(message.Id, 1, "b")]); // b is sent: finished
            await AcceptAsync(queue, "", ["s@example.org"], Body(50, 3), 4096, reports: new DeliveryReport(message.Id, DeliveryReportKind.Success, [1]));
            await queue.RecordRemovedAsync(removed.Id, "finished");
        }
        await using FasterQueueLog log2 = await OpenLogAsync();
        (_, RecoveredQueue recovered) = await OpenQueueAsync(log2);
        Assert.Equal(0, recovered.DamagedRecords);
        Assert.DoesNotContain(recovered.Messages, m => m.Id == removed.Id);
        QueuedMessage m = Assert.Single(recovered.Messages, m => m.Id == message.Id);
        Assert.True(m.Held);
        QueuedRecipient a = m.Recipients[0], b = m.Recipients[1], c = m.Recipients[2];
        Assert.Equal((RecipientStatus.Deferred, 3, now.AddMinutes(20)), (a.Status, a.Attempts, a.NextAttempt));
        Assert.Equal(LostConnection, a.LastReply); // the host it was with, and that the text is ours, not its reply
        Assert.Equal("rfc822;a@example.org", a.OriginalRecipient);
        Assert.Equal(DsnNotify.Success | DsnNotify.Failure, a.Notify);
        Assert.Equal(RecipientStatus.Sent, b.Status);
        // A reply from a host-less transport is written without the FromHost field, as every reply was before it
        // existed, and reads back as the host's (the default).
        Assert.Equal(new DeliveryReply(250, "2.0.0", "delivered to mailbox b"), b.LastReply);
        Assert.True(b.LastReply!.FromHost);
        Assert.Equal(DsnNotify.Success, b.Notified);
        Assert.Equal(RecipientStatus.Pending, c.Status);
        Assert.Equal(["c1"], c.PartsDone);
        Assert.Single(a.History);
        JournalRecord journal = Assert.Single(recovered.UnfinishedJournals);
        Assert.Equal("local", journal.Transport);
        Assert.Equal(new byte[] { 1, 2, 3 }, journal.Payload);
        QueuedMessage notice = Assert.Single(recovered.Messages, m => m.Origin == MessageOrigin.Bounce);
        Assert.Equal("", notice.Sender);
    }

    [Fact]
    public async Task ARecordInANewerFormatStopsRecoveryWithAClearError()
    {
        {
            await using FasterQueueLog log = await OpenLogAsync();
            byte[] record = new byte[QueueRecord.HeaderSize + 8];
            QueueRecord.WriteHeader(record, QueueRecordType.Envelope, 1, 0, 0);
            record[1] = QueueRecord.Version + 1;
            QueueRecord.Seal(record);
            await log.AppendDurableAsync(record);
        }
        await using FasterQueueLog log2 = await OpenLogAsync();
        QueueOpenException e = await Assert.ThrowsAsync<QueueOpenException>(() => OpenQueueAsync(log2));
        Assert.Contains("newer FastSpool", e.Message, StringComparison.Ordinal);
        Assert.Contains($"format version {QueueRecord.Version + 1}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRecordKindsAndUnknownFieldsAreSkipped()
    {
        QueuedMessage message;
        {
            await using FasterQueueLog log = await OpenLogAsync();
            (MailQueue queue, _) = await OpenQueueAsync(log);
            message = await AcceptAsync(queue, "s@example.org", ["a@localhost"], Body(10, 1), 4096);
            // A kind this version does not know.
            byte[] unknown = new byte[QueueRecord.HeaderSize + 4];
            QueueRecord.WriteHeader(unknown, (QueueRecordType)99, message.Id.Value, 0, 0);
            QueueRecord.Seal(unknown);
            await log.AppendDurableAsync(unknown);
            // A recipient state with a field this version does not know, before the ones it does.
            byte[] state = new byte[256];
            QueueRecord.WriteHeader(state, QueueRecordType.RecipientState, message.Id.Value, 0, 0);
            var writer = new TlvWriter(state.AsSpan(QueueRecord.HeaderSize));
            writer.WriteText(200, "from the future");
            writer.WriteOctet(1, (byte)RecipientStatus.Bounced);
            int length = QueueRecord.HeaderSize + writer.Position;
            QueueRecord.Seal(state.AsSpan(0, length));
            await log.AppendDurableAsync(state.AsMemory(0, length));
        }
        await using FasterQueueLog log2 = await OpenLogAsync();
        (_, RecoveredQueue recovered) = await OpenQueueAsync(log2);
        Assert.Equal(1, recovered.UnknownRecords);
        Assert.Equal(0, recovered.DamagedRecords);
        Assert.Equal(RecipientStatus.Bounced, Assert.Single(recovered.Messages).Recipients[0].Status);
    }

    [Fact]
    public async Task AVersion1EnvelopeAndItsDoneRecordAreReadBack()
    {
        // Version 1 layout: arrival, size, flags, then u16-length strings: client, helo, sender; u32 count of
        // recipients; u32 count of chunk addresses.
        var fields = new List<byte>();
        void Int64(long v) => fields.AddRange(BitConverter.GetBytes(v));
        void Str(string v) { fields.AddRange(BitConverter.GetBytes((ushort)Encoding.UTF8.GetByteCount(v))); fields.AddRange(Encoding.UTF8.GetBytes(v)); }
        Int64(1_700_000_000_000);
        Int64(5);
        fields.Add(1);
        Str("192.0.2.1");
        Str("old.example");
        Str("old@example.org");
        fields.AddRange(BitConverter.GetBytes(2u));
        Str("p@localhost");
        Str("q@localhost");
        fields.AddRange(BitConverter.GetBytes(0u));
        byte[] body = "hello"u8.ToArray();
        byte[] envelope = new byte[QueueRecord.HeaderSize + body.Length + fields.Count];
        QueueRecord.WriteHeader(envelope, QueueRecordType.Envelope, 42, 0, body.Length);
        envelope[1] = 1;
        body.CopyTo(envelope.AsSpan(QueueRecord.HeaderSize));
        fields.ToArray().CopyTo(envelope.AsSpan(QueueRecord.HeaderSize + body.Length));
        QueueRecord.Seal(envelope);
        var done = new List<byte> { 1 };
        done.AddRange(BitConverter.GetBytes((ushort)1));
        done.Add((byte)'p');
        byte[] doneRecord = new byte[QueueRecord.HeaderSize + done.Count];
        QueueRecord.WriteHeader(doneRecord, QueueRecordType.PartDone, 42, 0, 0);
        doneRecord[1] = 1;
        done.ToArray().CopyTo(doneRecord.AsSpan(QueueRecord.HeaderSize));
        QueueRecord.Seal(doneRecord);
        {
            await using FasterQueueLog log = await OpenLogAsync();
            await log.AppendDurableAsync(envelope);
            await log.AppendDurableAsync(doneRecord);
        }
        await using FasterQueueLog log2 = await OpenLogAsync();
        (MailQueue queue, RecoveredQueue recovered) = await OpenQueueAsync(log2);
        QueuedMessage m = Assert.Single(recovered.Messages);
        Assert.Equal(("old@example.org", "192.0.2.1", "old.example", 5L), (m.Sender, m.ClientAddress, m.ClientHelo, m.Size));
        Assert.Equal(["p@localhost", "q@localhost"], m.Recipients.Select(r => r.Address));
        Assert.True(m.EightBitMime);
        Assert.Equal(["p"], m.Recipients[0].PartsDone);
        using MessageBody read = await queue.ReadBodyAsync(m);
        Assert.Equal(body, read.Content.ToArray());
    }
}
