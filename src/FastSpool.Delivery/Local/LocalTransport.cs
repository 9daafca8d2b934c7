using System.Buffers;
using System.Text;
using FastSpool.Delivery.Mbox;
using FastSpool.Delivery.Transport;
using FastSpool.Queue;
using Microsoft.Extensions.Logging;

namespace FastSpool.Delivery.Local;

/// <summary>Appends messages to users' mbox files (Postfix's local(8)): renders the batch (From_ line, Return-Path,
/// Delivered-To, From-quoting), locks the mailbox, commits a journal record naming the region it will write,
/// appends with one fsync, and leaves the mailbox as it was on any error (DESIGN invariants 2 and 3). Before it
/// writes a mailbox again after a crash, it checks that mailbox's unfinished appends: deliveries that happened are
/// answered sent without writing them twice.</summary>
public sealed class LocalTransport : ITransport
{
    public const string TransportName = "local";

    private const int MaxKeptScratch = 32 << 20;

    private readonly MailQueue _queue;
    private readonly string _mailDirectory;
    private readonly TimeSpan _lockTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Func<string, MailboxOwner> _ownerOf;
    private readonly UnixFileMode _mailboxMode;
    private readonly MailboxHolders? _holders;
    private readonly Func<string, long, long, (bool Known, long NewOffset)>? _relocate;
    private readonly object _lock = new();

    // Appends whose outcome is not known yet, by mailbox path (after a crash, or a failed roll-back).
    private readonly Dictionary<string, List<MailboxIntent>> _unchecked = new(StringComparer.Ordinal);

    // Deliveries found in a mailbox by such a check, answered sent when the queue manager offers them.
    private readonly HashSet<JournalEntry> _foundDone = [];

    // Render buffers, one per batch under way, kept for the next batch.
    private readonly BoundedPool<ArrayBufferWriter<byte>> _scratch = new(() => new ArrayBufferWriter<byte>(64 * 1024), 16);

    /// <param name="ownerOf">Whose each mailbox is, by name; the server's when null.</param>
    /// <param name="mailboxMode">The mode of new mailboxes.</param>
    /// <param name="holders">Mailboxes that POP3 sessions hold: appended to under the session's locks.</param>
    /// <param name="relocate">Where a region of a mailbox (path, offset, length) is after the last POP3 update
    /// rewrote it: (false, _) when unknown, (true, -1) when the update removed it (the user deleted the message).</param>
    public LocalTransport(MailQueue queue, string mailDirectory, TimeSpan lockTimeout, TimeProvider time, ILogger log,
        Func<string, MailboxOwner>? ownerOf = null, UnixFileMode mailboxMode = MailboxFile.DefaultMode, MailboxHolders? holders = null,
        Func<string, long, long, (bool Known, long NewOffset)>? relocate = null)
    {
        _holders = holders;
        _relocate = relocate;
        _ownerOf = ownerOf ?? (_ => MailboxOwner.Server);
        _mailboxMode = mailboxMode;
        _queue = queue;
        _mailDirectory = mailDirectory;
        _lockTimeout = lockTimeout;
        _time = time;
        _log = log;
    }

    public string Name => TransportName;

    public string PathOf(string mailbox) => Path.Combine(_mailDirectory, mailbox);

    /// <summary>Checks the interrupted appends into <paramref name="mailbox"/> now (before a POP3 session rewrites
    /// it, which would move the regions they name). False when that cannot be done now.</summary>
    public bool TrySettle(string mailbox, out string? problem) => CheckInterrupted(PathOf(mailbox), _ownerOf(mailbox), out problem);

    /// <summary>Whether an append into the mailbox at <paramref name="path"/> still has to be checked.</summary>
    public bool HasUnchecked(string path)
    {
        lock (_lock)
            return _unchecked.ContainsKey(path);
    }

    public void Recover(IReadOnlyList<JournalRecord> journals)
    {
        lock (_lock)
        {
            foreach (JournalRecord journal in journals)
                Remember(MailboxIntent.Decode(journal));
        }
    }

    private void Remember(MailboxIntent intent)
    {
        if (!_unchecked.TryGetValue(intent.MailboxPath, out List<MailboxIntent>? list))
            _unchecked[intent.MailboxPath] = list = [];
        list.Add(intent);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask DeliverAsync(string destination, IReadOnlyList<DeliveryItem> items, DeliveryResult[] results, CancellationToken cancellationToken)
    {
        string path = PathOf(destination);
        MailboxOwner owner = _ownerOf(destination);
        if (!CheckInterrupted(path, owner, out string? problem))
        {
            Fill(results, items.Count, DeliveryResult.Temporary("4.2.0", "cannot check an interrupted append: " + problem));
            return;
        }

        // Deliveries an interrupted append already made are answered without writing them again.
        var toWrite = new List<int>(items.Count);
        lock (_lock)
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (_foundDone.Remove(new JournalEntry(items[i].Message.Id, items[i].Recipient, items[i].Part)))
                    results[i] = DeliveryResult.Sent("delivered to mailbox " + destination + " before restart");
                else
                    toWrite.Add(i);
            }
        }
        if (toWrite.Count == 0)
            return;

        ArrayBufferWriter<byte> scratch = _scratch.Rent();
        scratch.ResetWrittenCount();
        try
        {
            await WriteAsync(destination, path, owner, items, toWrite, results, scratch, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (scratch.Capacity <= MaxKeptScratch)
                _scratch.Return(scratch);
        }
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsync(string destination, string path, MailboxOwner owner, IReadOnlyList<DeliveryItem> items, List<int> toWrite,
        DeliveryResult[] results, ArrayBufferWriter<byte> scratch, CancellationToken cancellationToken)
    {
        try
        {
            DateTimeOffset now = _time.GetLocalNow();
            foreach (int i in toWrite)
                await RenderAsync(items[i], now, scratch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            Fill(results, toWrite, DeliveryResult.Temporary("4.3.0", "cannot read message from queue: " + e.Message));
            return;
        }

        if (_holders is not null && _holders.TryFind(path, out MailboxHold hold))
        {
            // A POP3 session holds the mailbox: append under its locks, after what the session sees.
            await hold.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!hold.IsReleased)
                {
                    MailboxFile held;
                    try
                    {
                        held = MailboxFile.OpenHeld(hold.Lock!);
                    }
                    catch (IOException e)
                    {
                        Fill(results, toWrite, DeliveryResult.Temporary("4.2.0", e.Message));
                        return;
                    }
                    using (held)
                        await AppendAsync(held, destination, path, items, toWrite, results, scratch, cancellationToken).ConfigureAwait(false);
                    return;
                }
            }
            finally
            {
                hold.Gate.Release();
            }
        }

        MailboxOpenResult opened = MailboxFile.TryOpen(path, owner, _mailboxMode, _lockTimeout, out MailboxFile? file, out string? error);
        DeliveryResult? failure = opened switch
        {
            MailboxOpenResult.Locked => DeliveryResult.Temporary("4.2.0", "mailbox " + path + " is locked"),
            // A symbolic link, a hard link, not a regular file: it needs the administrator, not a retry. Another
            // owner, or a missing right (CAP_CHOWN to give a new mailbox away), is Failed: deferred, the reason logged.
            MailboxOpenResult.Refused => DeliveryResult.Permanent("5.2.0", error ?? "cannot deliver to mailbox " + path),
            MailboxOpenResult.Failed => DeliveryResult.Temporary("4.2.0", error ?? "cannot open mailbox " + path),
            _ => file is null ? DeliveryResult.Temporary("4.2.0", "cannot open mailbox " + path) : null,
        };
        if (failure is { } f)
        {
            Fill(results, toWrite, f);
            return;
        }
        using (file)
            await AppendAsync(file!, destination, path, items, toWrite, results, scratch, cancellationToken).ConfigureAwait(false);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AppendAsync(MailboxFile file, string destination, string path, IReadOnlyList<DeliveryItem> items, List<int> toWrite,
        DeliveryResult[] results, ArrayBufferWriter<byte> scratch, CancellationToken cancellationToken)
    {
        var content = new ReadOnlySequence<byte>(scratch.WrittenMemory);
        var entries = new JournalEntry[toWrite.Count];
        for (int k = 0; k < toWrite.Count; k++)
        {
            DeliveryItem item = items[toWrite[k]];
            entries[k] = new JournalEntry(item.Message.Id, item.Recipient, item.Part);
        }
        var intent = new MailboxIntent(path, file.Length, content.Length, MailboxFile.Checksum(content), entries);
        try
        {
            await _queue.RecordJournalAsync(TransportName, intent.EncodePayload(), entries, cancellationToken).ConfigureAwait(false);
        }
        catch (QueueUnavailableException e)
        {
            Fill(results, toWrite, DeliveryResult.Temporary("4.3.0", "queue unavailable: " + e.Message));
            return;
        }
        try
        {
            file.Append(content);
        }
        catch (IOException e)
        {
            // The append may have failed to roll back too: check the region before writing again.
            lock (_lock)
                Remember(intent);
            Fill(results, toWrite, DeliveryResult.Temporary("4.2.0", e.Message));
            return;
        }
        Fill(results, toWrite, DeliveryResult.Sent("delivered to mailbox " + destination));
    }

    /// <summary>Finds out which announced appends to this mailbox happened. False when the mailbox cannot be checked
    /// now (locked, I/O error): nothing may be written to it until it can.</summary>
    private bool CheckInterrupted(string path, MailboxOwner owner, out string? problem)
    {
        problem = null;
        List<MailboxIntent>? intents;
        lock (_lock)
        {
            if (!_unchecked.Remove(path, out intents))
                return true;
        }
        for (int i = 0; i < intents.Count; i++)
        {
            MailboxIntent intent = intents[i];
            MailboxRegionState state = MailboxFile.CheckRegion(intent.MailboxPath, owner, intent.Offset, intent.Length, intent.Crc, _lockTimeout, out string? detail);
            switch (state)
            {
                case MailboxRegionState.Locked:
                case MailboxRegionState.Failed:
                    lock (_lock)
                    {
                        // Keep this one and the rest for the next try.
                        for (int k = i; k < intents.Count; k++)
                            Remember(intents[k]);
                    }
                    problem = detail ?? state.ToString();
                    return false;
                case MailboxRegionState.Present:
                    lock (_lock)
                        _foundDone.UnionWith(intent.Entries);
                    break;
                case MailboxRegionState.Changed when Relocated(intent, owner, out string? where):
                    lock (_lock)
                        _foundDone.UnionWith(intent.Entries);
                    _log.LogInformation("mailbox {Path}: the append at {Offset} was rewritten by a POP3 update ({Where}); not delivered again",
                        intent.MailboxPath, intent.Offset, where);
                    break;
                case MailboxRegionState.Changed:
                    // Something rewrote the mailbox since the crash: look for the messages themselves.
                    JournalEntry[] found = Array.FindAll(intent.Entries, e => MailboxHolds(intent.MailboxPath, e.Id));
                    lock (_lock)
                        _foundDone.UnionWith(found);
                    _log.LogWarning("mailbox {Path} changed since an interrupted append ({Detail}); {Found} of {Count} messages found in it, the others are delivered again",
                        intent.MailboxPath, detail, found.Length, intent.Entries.Length);
                    break;
                default:
                    _log.LogInformation("mailbox {Path}: interrupted append {State}; delivering again", intent.MailboxPath, state == MailboxRegionState.RolledBack ? "rolled back" : "not written");
                    break;
            }
        }
        return true;
    }

    /// <summary>After a POP3 update rewrote the mailbox: the append's region, found where the update put it with the
    /// recorded checksum, or removed by it (a message the session had seen whole and the user deleted). Cheap: the
    /// update's index says where, and one region is read.</summary>
    private bool Relocated(MailboxIntent intent, MailboxOwner owner, out string? where)
    {
        where = null;
        if (_relocate is null)
            return false;
        (bool known, long newOffset) = _relocate(intent.MailboxPath, intent.Offset, intent.Length);
        if (!known)
            return false;
        if (newOffset < 0)
        {
            where = "the user deleted it";
            return true;
        }
        where = "now at " + newOffset;
        return MailboxFile.CheckRegion(intent.MailboxPath, owner, newOffset, intent.Length, intent.Crc, _lockTimeout, out _) == MailboxRegionState.Present;
    }

    private static void Fill(DeliveryResult[] results, int count, DeliveryResult result)
    {
        for (int i = 0; i < count; i++)
            results[i] = result;
    }

    private static void Fill(DeliveryResult[] results, List<int> indexes, DeliveryResult result)
    {
        foreach (int i in indexes)
            results[i] = result;
    }

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

    private async Task RenderAsync(DeliveryItem item, DateTimeOffset now, ArrayBufferWriter<byte> output, CancellationToken cancellationToken)
    {
        QueuedMessage message = item.Message;
        using MessageBody body = await _queue.ReadBodyAsync(message, cancellationToken).ConfigureAwait(false);
        WriteSeparator(message.Sender, item.Target.Address, now, output);
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
