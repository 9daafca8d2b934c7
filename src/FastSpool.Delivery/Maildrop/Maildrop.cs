// RFC 1939 §8: the maildrop is locked exclusively from the end of AUTHORIZATION until the end of UPDATE; deletions
// are made only in UPDATE.
using System.Buffers;
using System.Globalization;
using FastSpool.Delivery.Mbox;
using FastSpool.Posix;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Delivery.Maildrop;

/// <summary>A user's mbox held for a POP3 session: locked as delivery and the MUAs lock it (<see cref="MailboxLock"/>),
/// mapped read-only, and indexed (<see cref="MboxIndex"/>, reused between sessions). Message text is read straight from
/// the mapping. Mail that delivery appends meanwhile goes in under the session's locks (<see cref="MailboxHolders"/>)
/// after the part the session sees, and is kept by <see cref="UpdateAsync"/>.</summary>
public sealed class Maildrop : IDisposable
{
    private const OpenFlags TemporaryFlags =
        OpenFlags.ReadWrite | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow | OpenFlags.CloseOnExec;
    private const int CopyBlock = 1 << 20;

    private static long s_temporaryCount;

    private readonly MailboxLock _lock;
    private readonly MailboxHold _hold;
    private readonly MboxIndex _index;

    // The messages as the session sees them, fixed for the session (RFC 1939 §5), whatever the index becomes.
    private readonly MboxMessage[] _messages;
    private readonly string _indexPath;
    private readonly long _length;
    private nint _map;
    private readonly byte[] _uidPrefix;

    private Maildrop(MailboxLock held, MailboxHold hold, MboxIndex index, string indexPath, long length, nint map)
    {
        _lock = held;
        _hold = hold;
        _index = index;
        _indexPath = indexPath;
        _length = length;
        _map = map;
        _uidPrefix = System.Text.Encoding.ASCII.GetBytes(index.UidPrefix + ".");
        _messages = [.. index.Messages];
        foreach (MboxMessage m in _messages)
            TotalSize += m.Size;
    }

    public string Path => _lock.Path;

    /// <summary>Messages in the maildrop when it was opened; numbered 1..Count for the session.</summary>
    public int Count => _messages.Length;

    public long TotalSize { get; }

    /// <summary>The message numbered <paramref name="number"/> - 1.</summary>
    public MboxMessage this[int index] => _messages[index];

    /// <summary>The mbox text of message <paramref name="index"/> (LF line ends), from the mapping.</summary>
    public unsafe ReadOnlySpan<byte> Content(int index)
    {
        MboxMessage m = _messages[index];
        return _map == 0 ? default : new ReadOnlySpan<byte>((byte*)_map + m.ContentStart, (int)m.ContentLength);
    }

    /// <summary>How much of the mailbox an index scan reads before it gives those pages back.</summary>
    private const long ScanWindow = 1 << 20;

    /// <summary>Gives back the resident pages of the first <paramref name="length"/> octets of message
    /// <paramref name="index"/> once they are sent, and of up to <see cref="ReleaseAround"/> on either side: a
    /// session reading a large maildrop keeps no more of it in its resident set than about the message it is sending
    /// (the pages stay in the page cache). The parts around are for the kernel's fault-around, which maps the
    /// neighbours of a page read (a whole large folio of a file written by ordinary writes), so that reading one
    /// message maps its neighbours again, whichever order a client reads in.</summary>
    public unsafe void Release(int index, int length)
    {
        if (_map == 0 || length <= 0)
            return;
        long start = Math.Max(0, _messages[index].ContentStart - ReleaseAround);
        long end = Math.Min(_length, _messages[index].ContentStart + length + ReleaseAround);
        if (end > start)
            _ = Libc.MAdviseDontNeed(_map + (nint)start, (nuint)(end - start));
    }

    private const long ReleaseAround = 2 << 20;

    /// <summary>Writes the UIDL of message <paramref name="index"/> (<c>PREFIX.N</c>, at most 40 octets) into
    /// <paramref name="destination"/>.</summary>
    public int FormatUid(int index, Span<byte> destination)
    {
        _uidPrefix.CopyTo(destination);
        _messages[index].Uid.TryFormat(destination[_uidPrefix.Length..], out int written, default, CultureInfo.InvariantCulture);
        return _uidPrefix.Length + written;
    }

    /// <summary>Locks, maps and indexes the mbox at <paramref name="path"/> (an empty one is created when missing,
    /// as delivery would). <paramref name="indexPath"/> is where its index is kept.</summary>
    public static unsafe MaildropOpenResult TryOpen(string path, MailboxOwner owner, UnixFileMode mode, string indexPath, TimeSpan lockTimeout,
        MailboxHolders holders, TimeProvider time, out Maildrop? maildrop, out string? error)
    {
        maildrop = null;
        if (!holders.TryReserve(path, out MailboxHold hold))
        {
            error = $"{path} is held by another POP3 session";
            return MaildropOpenResult.InUse;
        }
        MailboxLock? held = null;
        nint map = 0;
        long length = 0;
        try
        {
            MailboxOpenResult locked = MailboxLock.TryAcquire(path, owner, mode, create: true, lockTimeout, out held, out error);
            if (locked != MailboxOpenResult.Opened)
            {
                hold.Release();
                return locked == MailboxOpenResult.Locked ? MaildropOpenResult.InUse : MaildropOpenResult.Failed;
            }
            RemoveLeftovers(path);
            int errno = Libc.FStat(held!.Handle, out UnixFileStatus status);
            if (errno != 0)
                Libc.ThrowIO(path, "fstat", errno);
            length = status.Size;
            if (length > int.MaxValue)
            {
                error = $"{path} is {length} bytes; POP3 serves mailboxes up to 2 GiB";
                return Fail();
            }
            if (length > 0)
            {
                errno = Libc.MMapRead(held.Handle, 0, (nuint)length, out map);
                if (errno != 0)
                    Libc.ThrowIO(path, "mmap", errno);
            }
            var file = new ReadOnlySpan<byte>((void*)map, (int)length);
            MboxIndex index = MboxIndex.Load(indexPath) ?? MboxIndex.Create(time);
            // What the scan has read leaves the resident set as it goes, a window at a time: sessions opening large
            // mailboxes at once do not hold them whole.
            long released = 0;
            nint mapped = map;
            error = index.Refresh(file, status, out bool changed, upTo =>
            {
                if (upTo - released < ScanWindow)
                    return;
                _ = Libc.MAdviseDontNeed(mapped + (nint)released, (nuint)(upTo - released));
                released = upTo;
            });
            if (error is not null)
            {
                error = $"{path}: {error}";
                return Fail();
            }
            if (changed)
            {
                index.Save(indexPath);
                if (map != 0)
                    _ = Libc.MAdviseDontNeed(map, (nuint)length); // the scan read the file; messages are mapped again as they are sent
            }
            hold.Attach(held);
            maildrop = new Maildrop(held, hold, index, indexPath, length, map);
            return MaildropOpenResult.Opened;
        }
        catch (IOException e)
        {
            error = e.Message;
            return Fail();
        }

        MaildropOpenResult Fail()
        {
            if (map != 0)
                _ = Libc.MUnmap(map, (nuint)length);
            held?.Dispose();
            hold.Release();
            return MaildropOpenResult.Failed;
        }
    }

    /// <summary>Removes what an update killed before its rename left beside the mailbox (the locks are ours, so no
    /// update is running).</summary>
    private static void RemoveLeftovers(string path)
    {
        string directory = System.IO.Path.GetDirectoryName(path) ?? ".";
        string prefix = TemporaryPrefix(path);
        try
        {
            foreach (string leftover in Directory.EnumerateFiles(directory, prefix + "*"))
                _ = Libc.Unlink(leftover);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only space is lost.
        }
    }

    private static string TemporaryPrefix(string path) => "." + System.IO.Path.GetFileName(path) + ".pop3-";

    /// <summary>The UPDATE state (RFC 1939 §6): writes the mailbox again without the messages marked in
    /// <paramref name="deleted"/>, keeping everything after the part the session saw (mail delivered during the
    /// session). Crash-safe: the new mailbox is written beside the old one, fsynced, given the old one's owner and mode,
    /// locked, and renamed over it, and the directory fsynced; a kill at any moment leaves the old mailbox or the new
    /// one whole under the name.</summary>
    /// <param name="hasPendingAppend">Whether delivery still has to check an interrupted append into this mailbox;
    /// then nothing is rewritten (the check needs the offsets as they are).</param>
    /// <returns>Null, or why the mailbox was left as it was.</returns>
    public async ValueTask<string?> UpdateAsync(bool[] deleted, Func<string, bool>? hasPendingAppend, CancellationToken cancellationToken)
    {
        bool any = false;
        for (int i = 0; i < Count; i++)
            any |= deleted[i];
        if (!any)
            return null;
        await _hold.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (hasPendingAppend is not null && hasPendingAppend(Path))
                return $"{Path}: an interrupted delivery must be checked first; nothing was deleted";
            return Rewrite(deleted);
        }
        catch (IOException e)
        {
            return e.Message + "; nothing was deleted";
        }
        finally
        {
            // Delivery waiting at the gate now takes the locks itself, which it gets when Dispose releases them.
            _hold.Release();
            _hold.Gate.Release();
        }
    }

    private string? Rewrite(bool[] deleted)
    {
        int errno = Libc.FStat(_lock.Handle, out UnixFileStatus old);
        if (errno != 0)
            Libc.ThrowIO(Path, "fstat", errno);
        if (old.Size < _length)
            return $"{Path} is shorter ({old.Size} bytes) than when the session began ({_length}); nothing was deleted";

        string directory = System.IO.Path.GetDirectoryName(Path) ?? ".";
        string temporary = System.IO.Path.Combine(directory,
            TemporaryPrefix(Path) + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-"
            + Interlocked.Increment(ref s_temporaryCount).ToString(CultureInfo.InvariantCulture));
        errno = Libc.Open(temporary, TemporaryFlags, PrivateModes.File, out SafeFileHandle? created);
        if (created is null)
            Libc.ThrowIO(temporary, "open", errno);
        SafeFileHandle output = created;
        bool replaced = false;
        try
        {
            errno = (old.OwnerId != Libc.GetEffectiveUserId() || old.GroupId != Libc.GetEffectiveGroupId())
                ? Libc.FChown(output, old.OwnerId, old.GroupId)
                : 0;
            if (errno != 0)
                Libc.ThrowIO(temporary, $"fchown to {old.OwnerId}:{old.GroupId} (the mailbox's owner)", errno);
            errno = Libc.FChmod(output, old.Mode & (UnixFileMode)0x1FF);
            if (errno != 0)
                Libc.ThrowIO(temporary, "fchmod", errno);

            var moved = new List<MboxMessage>(Count);
            var runs = new List<(long OldStart, long NewStart, long Length)>();
            long written = 0;
            int i = 0;
            while (i < Count)
            {
                if (deleted[i])
                {
                    i++;
                    continue;
                }
                // A run of kept entries is copied in one go.
                long runStart = _messages[i].Start;
                while (i < Count && !deleted[i])
                {
                    MboxMessage m = _messages[i];
                    long shift = written + (m.Start - runStart) - m.Start;
                    moved.Add(m with { Start = m.Start + shift, ContentStart = m.ContentStart + shift, ContentEnd = m.ContentEnd + shift });
                    i++;
                }
                long runEnd = i < Count ? _messages[i].Start : _length;
                runs.Add((runStart, written, runEnd - runStart));
                WriteMapped(output, temporary, runStart, runEnd - runStart, written);
                written += runEnd - runStart;
            }
            long indexed = written;
            if (old.Size > _length)
                runs.Add((_length, written, old.Size - _length));
            written += CopyTail(output, temporary, _length, old.Size - _length, written);

            errno = Libc.FSync(output);
            if (errno != 0)
                Libc.ThrowIO(temporary, "fsync", errno);
            // The index of the new file, with where the update moved each region, is saved before the rename: after
            // a crash that follows the rename, delivery's check of an append made during the session finds the
            // append's region through it instead of reading the whole mailbox.
            errno = Libc.FStat(output, out UnixFileStatus now);
            if (errno != 0)
                Libc.ThrowIO(temporary, "fstat", errno);
            _index.Rewritten(moved, indexed, now, runs, old.Size);
            try
            {
                _index.Save(_indexPath);
            }
            catch (IOException)
            {
                // The next session reads the mailbox again and knows the messages by their fingerprints.
            }
            _lock.Replace(output, temporary);
            replaced = true;
            return null;
        }
        finally
        {
            if (!replaced)
            {
                output.Dispose();
                _ = Libc.Unlink(temporary);
            }
        }
    }

    private unsafe void WriteMapped(SafeFileHandle output, string path, long from, long length, long at)
    {
        while (length > 0)
        {
            // A block at a time, each given back once written: a session's QUIT keeps no more of the mailbox resident
            // than one block, however much of it stays.
            int n = (int)Math.Min(length, CopyBlock);
            try
            {
                RandomAccess.Write(output, new ReadOnlySpan<byte>((byte*)_map + from, n), at);
            }
            catch (IOException e)
            {
                throw new IOException($"{path}: write: {e.Message}", e);
            }
            _ = Libc.MAdviseDontNeed(_map + (nint)from, (nuint)n);
            from += n;
            at += n;
            length -= n;
        }
    }

    /// <summary>Copies what delivery appended during the session, which the mapping does not cover.</summary>
    private long CopyTail(SafeFileHandle output, string path, long from, long length, long at)
    {
        if (length <= 0)
            return 0;
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(length, CopyBlock));
        try
        {
            long copied = 0;
            while (copied < length)
            {
                int read = RandomAccess.Read(_lock.Handle, buffer.AsSpan(0, (int)Math.Min(length - copied, buffer.Length)), from + copied);
                if (read == 0)
                    throw new IOException($"{Path}: unexpected end of file at {from + copied}");
                RandomAccess.Write(output, buffer.AsSpan(0, read), at + copied);
                copied += read;
            }
            return copied;
        }
        catch (IOException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new IOException($"{path}: {e.Message}", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Unmaps the file and releases the locks (after <see cref="UpdateAsync"/>, or without it: nothing
    /// changes).</summary>
    public void Dispose()
    {
        if (!_hold.IsReleased)
        {
            // Wait for an append under way, so that the locks are not released beneath it.
            _hold.Gate.Wait();
            _hold.Release();
            _hold.Gate.Release();
        }
        if (_map != 0)
        {
            _ = Libc.MUnmap(_map, (nuint)_length);
            _map = 0;
        }
        _lock.Dispose();
    }
}
