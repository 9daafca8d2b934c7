using System.Buffers;
using System.Text;
using FastSpool.Delivery.Mbox;
using FastSpool.Queue;

namespace FastSpool.Server.Delivery;

/// <summary>Appends messages to a user's mbox file: renders the batch (From_ line, Return-Path, Delivered-To,
/// From-quoting), locks the mailbox, commits an intent naming the region it will write, appends with one fsync,
/// and leaves the mailbox as it was on any error (DESIGN invariants 2 and 3).</summary>
internal sealed class LocalDeliveryAgent
{
    private readonly MailQueue _queue;
    private readonly string _mailDirectory;
    private readonly TimeSpan _lockTimeout;
    private readonly TimeProvider _time;

    public LocalDeliveryAgent(MailQueue queue, string mailDirectory, TimeSpan lockTimeout, TimeProvider time)
    {
        _queue = queue;
        _mailDirectory = mailDirectory;
        _lockTimeout = lockTimeout;
        _time = time;
    }

    public string PathOf(string mailbox) => Path.Combine(_mailDirectory, mailbox);

    public async Task<DeliveryOutcome> DeliverAsync(string mailbox, IReadOnlyList<PendingDelivery> batch, ArrayBufferWriter<byte> scratch, CancellationToken cancellationToken)
    {
        scratch.ResetWrittenCount();
        try
        {
            DateTimeOffset now = _time.GetLocalNow();
            foreach (PendingDelivery delivery in batch)
                await RenderAsync(delivery, now, scratch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            return DeliveryOutcome.Defer("cannot read message from queue: " + e.Message);
        }

        string path = PathOf(mailbox);
        MailboxOpenResult opened = MailboxFile.TryOpen(path, _lockTimeout, out MailboxFile? file, out string? error);
        switch (opened)
        {
            case MailboxOpenResult.Locked:
                return DeliveryOutcome.Defer("mailbox " + path + " is locked");
            case MailboxOpenResult.Refused:
            case MailboxOpenResult.Failed:
                return DeliveryOutcome.Defer(error ?? "cannot open mailbox " + path);
        }
        if (file is null)
            return DeliveryOutcome.Defer("cannot open mailbox " + path);
        using (file)
        {
            var content = new ReadOnlySequence<byte>(scratch.WrittenMemory);
            var entries = new DeliveryIntentEntry[batch.Count];
            for (int i = 0; i < batch.Count; i++)
                entries[i] = new DeliveryIntentEntry(batch[i].Message.Id, batch[i].Recipient, batch[i].Mailbox);
            var intent = new DeliveryIntent(path, file.Length, content.Length, MailboxFile.Checksum(content), entries);
            try
            {
                await _queue.RecordIntentAsync(intent, cancellationToken).ConfigureAwait(false);
            }
            catch (QueueUnavailableException e)
            {
                return DeliveryOutcome.Defer("queue unavailable: " + e.Message);
            }
            try
            {
                file.Append(content);
            }
            catch (IOException e)
            {
                return DeliveryOutcome.Defer(e.Message, intent);
            }
        }
        return DeliveryOutcome.Delivered;
    }

    /// <summary>After a crash: did the append that this intent announced happen?</summary>
    public MailboxRegionState CheckIntent(DeliveryIntent intent, out string? detail) =>
        MailboxFile.CheckRegion(intent.MailboxPath, intent.Offset, intent.Length, intent.Crc, _lockTimeout, out detail);

    /// <summary>True when the mailbox holds a message with our Received header for <paramref name="id"/>
    /// ("... (FastSpool) with ESMTP id 6B05C71800000" followed by a line end or ';'). Used only after a crash, when
    /// a mailbox was rewritten by something else and the append's region can no longer be checked.</summary>
    public static bool MailboxHolds(string path, QueueId id)
    {
        Span<byte> pattern = stackalloc byte[4 + QueueId.TextLength];
        " id "u8.CopyTo(pattern);
        id.TryFormat(pattern[4..], out _);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            int kept = 0;
            while (true)
            {
                int read = stream.Read(buffer, kept, buffer.Length - kept);
                if (read == 0)
                    return false;
                int length = kept + read;
                ReadOnlySpan<byte> data = buffer.AsSpan(0, length);
                int at = 0;
                while (true)
                {
                    int found = data[at..].IndexOf(pattern);
                    if (found < 0)
                        break;
                    int after = at + found + pattern.Length;
                    if (after < length && data[after] is (byte)'\n' or (byte)';')
                        return true;
                    at += found + 1;
                }
                // Keep the end of the block: the pattern may straddle two reads.
                kept = Math.Min(pattern.Length, length);
                data[(length - kept)..].CopyTo(buffer);
            }
        }
        catch (IOException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task RenderAsync(PendingDelivery delivery, DateTimeOffset now, ArrayBufferWriter<byte> output, CancellationToken cancellationToken)
    {
        QueuedMessage message = delivery.Message;
        using MessageBody body = await _queue.ReadBodyAsync(message, cancellationToken).ConfigureAwait(false);
        WriteSeparator(message.Sender, message.Recipients[delivery.Recipient], now, output);
        var encoder = new MboxEncoder();
        foreach (ReadOnlyMemory<byte> segment in body.Content)
            encoder.Encode(segment.Span, output);
        encoder.Finish(output);
    }

    private static void WriteSeparator(string sender, string recipient, DateTimeOffset now, ArrayBufferWriter<byte> output)
    {
        Span<byte> senderBytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(sender.Length)];
        senderBytes = senderBytes[..Encoding.UTF8.GetBytes(sender, senderBytes)];
        Span<byte> recipientBytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(recipient.Length)];
        recipientBytes = recipientBytes[..Encoding.UTF8.GetBytes(recipient, recipientBytes)];
        Span<byte> destination = output.GetSpan(MboxEncoder.GetSeparatorLength(senderBytes, recipientBytes));
        output.Advance(MboxEncoder.WriteSeparator(destination, senderBytes, recipientBytes, now));
    }
}
