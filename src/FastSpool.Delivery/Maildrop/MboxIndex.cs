using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using FastSpool.Posix;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Delivery.Maildrop;

/// <summary>Where the messages of one mbox file are, and their UIDLs, kept in the server's private data directory
/// beside (not in) the mail directory, so that a login reads the file only where it changed.</summary>
/// <remarks>
/// <para>Reuse: the index names the file (device, inode) and how far it was indexed. While the mbox has the same
/// size and modification time, the index is used as it is; when it only grew (delivery appends), each indexed
/// message's fingerprint is checked in place and only the new tail is read. Anything else (a MUA rewrote the file)
/// is read again whole.</para>
/// <para>UIDL: <c>PREFIX.N</c>. N counts up in the index and is never given twice; PREFIX (time of creation and
/// random bits) is chosen when an index is created, so that if the index is lost the new numbers cannot repeat old
/// ones. When the file was rewritten by something else, messages are known again by their fingerprint (the From_
/// line and the first octets after it, which FastSpool writes and MUAs keep) and keep their UIDL. Nothing in a
/// message's text sets it: an <c>X-UIDL:</c> header changes nothing. The index is written with fsync before any new
/// UIDL is shown, so a crash cannot hand out a number twice.</para>
/// </remarks>
public sealed class MboxIndex
{
    private const ulong Magic = 0x3249_5844_4950_5346; // "FSPIDX2" little-endian, with a version digit
    private const int HeaderSize = 8 * 8 + 4;
    private const int EntrySize = 5 * 8 + 4;

    private MboxIndex(string uidPrefix, long nextUid)
    {
        UidPrefix = uidPrefix;
        NextUid = nextUid;
    }

    public List<MboxMessage> Messages { get; } = [];

    /// <summary>Where the last POP3 update moved the old file's octets in the new one (the file
    /// <see cref="RewriteDevice"/>/<see cref="RewriteInode"/>): runs of (old offset, new offset, length); what lies
    /// between runs up to <see cref="RewriteOldLength"/> was deleted.</summary>
    public List<(long OldStart, long NewStart, long Length)> RewriteRuns { get; } = [];

    public ulong RewriteDevice { get; private set; }
    public ulong RewriteInode { get; private set; }
    public long RewriteOldLength { get; private set; }

    /// <summary>The part of every UIDL before the dot.</summary>
    public string UidPrefix { get; }

    /// <summary>The next message number to give.</summary>
    public long NextUid { get; private set; }

    public ulong Device { get; private set; }
    public ulong Inode { get; private set; }

    /// <summary>How far the file was indexed: the end of the last message found.</summary>
    public long IndexedLength { get; private set; }

    /// <summary>The file's size and modification time when indexed.</summary>
    public long FileSize { get; private set; }
    public long ModificationTicks { get; private set; }

    /// <summary>A new, empty index with a new UIDL prefix.</summary>
    public static MboxIndex Create(TimeProvider time)
    {
        Span<byte> random = stackalloc byte[2];
        RandomNumberGenerator.Fill(random);
        string prefix = time.GetUtcNow().ToUnixTimeSeconds().ToString("x", CultureInfo.InvariantCulture)
            + BinaryPrimitives.ReadUInt16LittleEndian(random).ToString("x4", CultureInfo.InvariantCulture);
        return new MboxIndex(prefix, 1);
    }

    /// <summary>Brings the index up to date with <paramref name="file"/> (the whole mbox, mapped) whose status is
    /// <paramref name="status"/>; <paramref name="scanned"/>, if given, learns how far the file has been read.</summary>
    /// <returns>Null, or why the file is not an mbox.</returns>
    public string? Refresh(ReadOnlySpan<byte> file, in UnixFileStatus status, out bool changed, Action<long>? scanned = null)
    {
        changed = false;
        long ticks = status.ModificationTime.UtcTicks;
        bool sameFile = status.Device == Device && status.Inode == Inode;
        if (sameFile && status.Size == FileSize && ticks == ModificationTicks && IndexedLength == FileSize)
            return null;
        changed = true;
        int from = 0;
        if (sameFile && StillHolds(file, scanned))
        {
            from = (int)IndexedLength;
        }
        else
        {
            // Read it all again; messages found again keep their numbers.
            var known = new Dictionary<uint, Queue<long>>();
            foreach (MboxMessage m in Messages)
            {
                if (!known.TryGetValue(m.Fingerprint, out Queue<long>? uids))
                    known[m.Fingerprint] = uids = new Queue<long>();
                uids.Enqueue(m.Uid);
            }
            Messages.Clear();
            string? error = AddFrom(file, 0, known, scanned);
            Identify(status, file.Length);
            return error;
        }
        string? problem = AddFrom(file, from, null, scanned);
        Identify(status, file.Length);
        return problem;
    }

    private void Identify(in UnixFileStatus status, long length)
    {
        Device = status.Device;
        Inode = status.Inode;
        FileSize = status.Size;
        ModificationTicks = status.ModificationTime.UtcTicks;
        IndexedLength = length;
    }

    /// <summary>The indexed messages are where they were, and what follows starts a new entry.</summary>
    private bool StillHolds(ReadOnlySpan<byte> file, Action<long>? scanned)
    {
        if (file.Length < IndexedLength || !MboxScanner.StartsEntry(file, IndexedLength))
            return false;
        foreach (MboxMessage m in Messages)
        {
            if (m.ContentEnd > file.Length || MboxScanner.Fingerprint(file, m.Start, m.ContentEnd) != m.Fingerprint)
                return false;
            scanned?.Invoke(m.ContentEnd);
        }
        return true;
    }

    private string? AddFrom(ReadOnlySpan<byte> file, int from, Dictionary<uint, Queue<long>>? known, Action<long>? scanned)
    {
        int first = Messages.Count;
        string? error = MboxScanner.Scan(file, from, Messages, scanned);
        for (int i = first; i < Messages.Count; i++)
        {
            MboxMessage m = Messages[i];
            long uid = known is not null && known.TryGetValue(m.Fingerprint, out Queue<long>? uids) && uids.Count > 0
                ? uids.Dequeue()
                : NextUid++;
            Messages[i] = m with { Uid = uid };
        }
        return error;
    }

    /// <summary>After a rewrite: the file is now <paramref name="status"/>'s, holding <paramref name="moved"/> (the
    /// kept messages at their new offsets) up to <paramref name="indexedLength"/>, and after that mail not yet
    /// indexed.</summary>
    public void Rewritten(List<MboxMessage> moved, long indexedLength, in UnixFileStatus status,
        List<(long OldStart, long NewStart, long Length)> runs, long oldLength)
    {
        Messages.Clear();
        Messages.AddRange(moved);
        Identify(status, indexedLength);
        RewriteRuns.Clear();
        RewriteRuns.AddRange(runs);
        RewriteDevice = status.Device;
        RewriteInode = status.Inode;
        RewriteOldLength = oldLength;
    }

    /// <summary>Where the region [<paramref name="offset"/>, +<paramref name="length"/>) of the mailbox as it was
    /// before the last POP3 update is now, when the mailbox at <paramref name="mailboxPath"/> is still the file that
    /// update wrote: the new offset, or -1 when the update removed the region (the user deleted the message).</summary>
    /// <returns>False when the index knows no such update of this file, or the region was not in the old file.</returns>
    public static bool TryRelocate(string indexPath, string mailboxPath, long offset, long length, out long newOffset)
    {
        newOffset = -1;
        MboxIndex? index = Load(indexPath);
        if (index is null || index.RewriteInode == 0 || Libc.LStat(mailboxPath, out UnixFileStatus status) != 0
            || status.Device != index.RewriteDevice || status.Inode != index.RewriteInode || offset + length > index.RewriteOldLength)
        {
            return false;
        }
        foreach ((long oldStart, long newStart, long runLength) in index.RewriteRuns)
        {
            if (offset >= oldStart && offset + length <= oldStart + runLength)
            {
                newOffset = newStart + (offset - oldStart);
                return true;
            }
        }
        return true; // in a deleted stretch, or across one: the messages were there when the session saw the file
    }

    /// <summary>Reads a stored index; null when there is none or it cannot be used (it is then made again).</summary>
    public static MboxIndex? Load(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        if (data.Length < HeaderSize + 2 || BinaryPrimitives.ReadUInt64LittleEndian(data) != Magic)
            return null;
        ReadOnlySpan<byte> d = data;
        int prefixLength = d[8];
        if (prefixLength is 0 or > 32 || data.Length < 9 + prefixLength + HeaderSize)
            return null;
        string prefix = System.Text.Encoding.ASCII.GetString(d.Slice(9, prefixLength));
        d = d[(9 + prefixLength)..];
        var index = new MboxIndex(prefix, BinaryPrimitives.ReadInt64LittleEndian(d))
        {
            Device = BinaryPrimitives.ReadUInt64LittleEndian(d[8..]),
            Inode = BinaryPrimitives.ReadUInt64LittleEndian(d[16..]),
            IndexedLength = BinaryPrimitives.ReadInt64LittleEndian(d[24..]),
            FileSize = BinaryPrimitives.ReadInt64LittleEndian(d[32..]),
            ModificationTicks = BinaryPrimitives.ReadInt64LittleEndian(d[40..]),
        };
        long count = BinaryPrimitives.ReadInt64LittleEndian(d[48..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(d[56..]);
        d = d[64..];
        if (count < 0 || d.Length < (count * EntrySize) + 32 || Crc32C.Compute(d) != crc)
            return null;
        for (int i = 0; i < count; i++, d = d[EntrySize..])
        {
            var m = new MboxMessage(
                BinaryPrimitives.ReadInt64LittleEndian(d), BinaryPrimitives.ReadInt64LittleEndian(d[8..]),
                BinaryPrimitives.ReadInt64LittleEndian(d[16..]), BinaryPrimitives.ReadInt64LittleEndian(d[24..]),
                BinaryPrimitives.ReadInt64LittleEndian(d[32..]), BinaryPrimitives.ReadUInt32LittleEndian(d[40..]));
            if (m.Uid >= index.NextUid || m.ContentEnd < m.ContentStart)
                return null;
            index.Messages.Add(m);
        }
        index.RewriteDevice = BinaryPrimitives.ReadUInt64LittleEndian(d);
        index.RewriteInode = BinaryPrimitives.ReadUInt64LittleEndian(d[8..]);
        index.RewriteOldLength = BinaryPrimitives.ReadInt64LittleEndian(d[16..]);
        long runs = BinaryPrimitives.ReadInt64LittleEndian(d[24..]);
        d = d[32..];
        if (runs < 0 || d.Length != runs * 24)
            return null;
        for (int i = 0; i < runs; i++, d = d[24..])
            index.RewriteRuns.Add((BinaryPrimitives.ReadInt64LittleEndian(d), BinaryPrimitives.ReadInt64LittleEndian(d[8..]), BinaryPrimitives.ReadInt64LittleEndian(d[16..])));
        return index;
    }

    /// <summary>Writes the index durably: a temporary file, fsync, rename, fsync of the directory.</summary>
    public void Save(string path)
    {
        int prefixLength = UidPrefix.Length;
        byte[] data = new byte[9 + prefixLength + 64 + (Messages.Count * EntrySize) + 32 + (RewriteRuns.Count * 24)];
        Span<byte> d = data;
        BinaryPrimitives.WriteUInt64LittleEndian(d, Magic);
        d[8] = (byte)prefixLength;
        System.Text.Encoding.ASCII.GetBytes(UidPrefix, d.Slice(9, prefixLength));
        Span<byte> h = d[(9 + prefixLength)..];
        BinaryPrimitives.WriteInt64LittleEndian(h, NextUid);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], Device);
        BinaryPrimitives.WriteUInt64LittleEndian(h[16..], Inode);
        BinaryPrimitives.WriteInt64LittleEndian(h[24..], IndexedLength);
        BinaryPrimitives.WriteInt64LittleEndian(h[32..], FileSize);
        BinaryPrimitives.WriteInt64LittleEndian(h[40..], ModificationTicks);
        BinaryPrimitives.WriteInt64LittleEndian(h[48..], Messages.Count);
        Span<byte> e = h[64..];
        Span<byte> entries = e;
        foreach (MboxMessage m in Messages)
        {
            BinaryPrimitives.WriteInt64LittleEndian(e, m.Start);
            BinaryPrimitives.WriteInt64LittleEndian(e[8..], m.ContentStart);
            BinaryPrimitives.WriteInt64LittleEndian(e[16..], m.ContentEnd);
            BinaryPrimitives.WriteInt64LittleEndian(e[24..], m.Size);
            BinaryPrimitives.WriteInt64LittleEndian(e[32..], m.Uid);
            BinaryPrimitives.WriteUInt32LittleEndian(e[40..], m.Fingerprint);
            e = e[EntrySize..];
        }
        BinaryPrimitives.WriteUInt64LittleEndian(e, RewriteDevice);
        BinaryPrimitives.WriteUInt64LittleEndian(e[8..], RewriteInode);
        BinaryPrimitives.WriteInt64LittleEndian(e[16..], RewriteOldLength);
        BinaryPrimitives.WriteInt64LittleEndian(e[24..], RewriteRuns.Count);
        e = e[32..];
        foreach ((long oldStart, long newStart, long runLength) in RewriteRuns)
        {
            BinaryPrimitives.WriteInt64LittleEndian(e, oldStart);
            BinaryPrimitives.WriteInt64LittleEndian(e[8..], newStart);
            BinaryPrimitives.WriteInt64LittleEndian(e[16..], runLength);
            e = e[24..];
        }
        BinaryPrimitives.WriteUInt32LittleEndian(h[56..], Crc32C.Compute(entries));

        string directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory, PrivateModes.Directory);
        string temporary = path + ".tmp";
        _ = Libc.Unlink(temporary);
        int errno = Libc.Open(temporary, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow | OpenFlags.CloseOnExec,
            PrivateModes.File, out SafeFileHandle? handle);
        if (handle is null)
            Libc.ThrowIO(temporary, "open", errno);
        using (handle)
        {
            RandomAccess.Write(handle!, data, 0);
            errno = Libc.FSync(handle!);
            if (errno != 0)
                Libc.ThrowIO(temporary, "fsync", errno);
        }
        errno = Libc.Rename(temporary, path);
        if (errno != 0)
            Libc.ThrowIO(temporary, "rename", errno);
        Mbox.MailboxLock.SyncDirectory(directory);
    }
}
