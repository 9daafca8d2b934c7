using System.Buffers;
using System.Diagnostics;
using System.Text;
using FastSpool.Delivery.Mbox;
using FastSpool.Delivery.Tests.Support;
using FastSpool.Posix;
using MimeKit;

namespace FastSpool.Delivery.Tests.Mbox;

public sealed class MailboxFileTests : IDisposable
{
    private static readonly TimeSpan NoWait = TimeSpan.Zero;
    private static readonly TimeSpan ShortWait = TimeSpan.FromMilliseconds(300);

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void TryOpenCreatesTheMailboxWithMode0600AndItsDirectoryWith0700()
    {
        string path = Path.Combine(_directory.Path, "spool", "alice");

        MailboxOpenResult result = MailboxFile.TryOpen(path, NoWait, out MailboxFile? mailbox, out string? error);

        using (mailbox)
        {
            Assert.Equal(MailboxOpenResult.Opened, result);
            Assert.Null(error);
            Assert.Equal(0, mailbox!.Length);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                File.GetUnixFileMode(Path.GetDirectoryName(path)!));
            Assert.True(File.Exists(path + ".lock"));
        }
        Assert.False(File.Exists(path + ".lock"));
    }

    [Fact]
    public void AppendWritesEachPieceAfterTheLastAndKeepsTheLength()
    {
        string path = _directory.Combine("alice");
        File.WriteAllText(path, "From old  Thu Jan  1 00:00:00 1970\n\nold\n\n");
        long initial = new FileInfo(path).Length;
        byte[] first = Encoding.ASCII.GetBytes("From a  Thu Jan  1 00:00:00 1970\n\none\n\n");
        byte[] second = Encoding.ASCII.GetBytes("From b  Thu Jan  1 00:00:00 1970\n\n" + new string('x', 10000) + "\n\n");
        byte[] third = Encoding.ASCII.GetBytes("From c  Thu Jan  1 00:00:00 1970\n\nthree\n\n");

        using (MailboxFile mailbox = Open(path))
        {
            Assert.Equal(initial, mailbox.Length);
            mailbox.Append(new ReadOnlySequence<byte>(first));
            Assert.Equal(initial + first.Length, mailbox.Length);
            mailbox.Append(Segments.Split(second, 999));
            mailbox.Append(third.AsMemory(0, 10), third.AsMemory(10));
            mailbox.Append(ReadOnlySequence<byte>.Empty);
            Assert.Equal(initial + first.Length + second.Length + third.Length, mailbox.Length);
        }

        byte[] expected = [.. Encoding.ASCII.GetBytes("From old  Thu Jan  1 00:00:00 1970\n\nold\n\n"), .. first, .. second, .. third];
        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Fact]
    public void AppendedMessagesReadBackThroughMimeKitsMboxParser()
    {
        string path = _directory.Combine("bob");
        var time = new DateTimeOffset(2024, 3, 4, 9, 5, 7, TimeSpan.Zero);
        string[] bodies =
        [
            "Hello Bob,\r\nFrom now on we meet on Mondays.\r\n>From the archive.\r\n",
            "Grüße aus Zürich — 日本\r\n",
            "no final line end",
        ];
        string[] senders = ["alice@example.org", "", "carol@example.org"];

        using (MailboxFile mailbox = Open(path))
        {
            // The first on its own, the other two batched under the same lock.
            mailbox.Append(MboxEntry(senders[0], "bob@example.net", time, 0, bodies[0]));
        }
        using (MailboxFile mailbox = Open(path))
        {
            mailbox.Append(MboxEntry(senders[1], "bob@example.net", time, 1, bodies[1]));
            mailbox.Append(MboxEntry(senders[2], "bob@example.net", time, 2, bodies[2]));
        }

        using FileStream stream = File.OpenRead(path);
        var parser = new MimeParser(stream, MimeFormat.Mbox);
        var messages = new List<(MimeMessage Message, string Marker)>();
        while (!parser.IsEndOfStream)
            messages.Add((parser.ParseMessage(), parser.MboxMarker ?? ""));

        Assert.Equal(3, messages.Count);
        for (int i = 0; i < 3; i++)
        {
            (MimeMessage message, string marker) = messages[i];
            string sender = senders[i].Length == 0 ? "MAILER-DAEMON" : senders[i];
            Assert.StartsWith($"From {sender}  ", marker, StringComparison.Ordinal);
            Assert.Equal(24, marker.Length - $"From {sender}  ".Length);
            Assert.Equal($"<{senders[i]}>", message.Headers[HeaderId.ReturnPath]);
            Assert.Equal("bob@example.net", message.Headers["Delivered-To"]);
            Assert.Equal($"Message {i}", message.Subject);
            Assert.Null(message.Headers[HeaderId.Status]);
            Assert.Null(message.Headers["X-UID"]);
            Assert.Equal($"<{i}@example.org>", "<" + message.MessageId + ">");
        }
        Assert.Equal("Hello Bob,\n>From now on we meet on Mondays.\n>From the archive.\n", messages[0].Message.TextBody);
        Assert.Equal("Grüße aus Zürich — 日本\n", messages[1].Message.TextBody);
        // The blank line that ends an entry goes with the next From_ line; after the last entry none follows.
        Assert.Equal("no final line end\n\n", messages[2].Message.TextBody);
    }

    [Fact]
    public void TryOpenRefusesASymbolicLinkAndCreatesNothingThroughIt()
    {
        string target = _directory.Combine("target");
        string path = _directory.Combine("alice");
        File.CreateSymbolicLink(path, target);

        MailboxOpenResult result = MailboxFile.TryOpen(path, NoWait, out MailboxFile? mailbox, out string? error);

        Assert.Equal(MailboxOpenResult.Refused, result);
        Assert.Null(mailbox);
        Assert.Equal($"{path} is a symbolic link", error);
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(path + ".lock"));
    }

    [Fact]
    public void TryOpenRefusesAHardLinkedFile()
    {
        string path = _directory.Combine("alice");
        File.WriteAllText(path, "");
        Tool.RunOrFail("ln", path, _directory.Combine("other"));

        MailboxOpenResult result = MailboxFile.TryOpen(path, NoWait, out MailboxFile? mailbox, out string? error);

        Assert.Equal(MailboxOpenResult.Refused, result);
        Assert.Null(mailbox);
        Assert.Equal($"{path} has 2 hard links", error);
    }

    [Fact]
    public void TryOpenRefusesAFifoWithoutWaitingForAWriter()
    {
        string path = _directory.Combine("alice");
        Tool.RunOrFail("mkfifo", path);

        MailboxOpenResult result = MailboxFile.TryOpen(path, NoWait, out MailboxFile? mailbox, out string? error);

        Assert.Equal(MailboxOpenResult.Refused, result);
        Assert.Null(mailbox);
        Assert.Equal($"{path} is a FIFO, not a regular file", error);
    }

    [Fact]
    public void TryOpenRefusesADirectory()
    {
        string path = _directory.Combine("alice");
        Directory.CreateDirectory(path);

        MailboxOpenResult result = MailboxFile.TryOpen(path, NoWait, out MailboxFile? mailbox, out string? error);

        Assert.Equal(MailboxOpenResult.Refused, result);
        Assert.Null(mailbox);
        Assert.Equal($"{path} is a directory, not a regular file", error);
    }

    [RootFact]
    public void TryOpenRefusesAFileOwnedBySomeoneElse()
    {
        string path = _directory.Combine("alice");
        File.WriteAllText(path, "");
        Tool.RunOrFail("chown", "12345", path);

        MailboxOpenResult result = MailboxFile.TryOpen(path, NoWait, out MailboxFile? mailbox, out string? error);

        Assert.Equal(MailboxOpenResult.Failed, result); // deferred until the administrator gives it back
        Assert.Null(mailbox);
        Assert.Equal($"{path} is owned by uid 12345, not by uid 0 that delivers the mail", error);
    }

    [Fact]
    public void TryOpenFailsWhenTheDirectoryCannotBeCreated()
    {
        string path = Path.Combine(_directory.Path, "missing", "spool", "alice");

        MailboxOpenResult result = MailboxFile.TryOpen(path, NoWait, out MailboxFile? mailbox, out string? error);

        Assert.Equal(MailboxOpenResult.Failed, result);
        Assert.Null(mailbox);
        Assert.Equal($"{Path.GetDirectoryName(path)}: mkdir: No such file or directory", error);
    }

    [Fact]
    public void SecondOpenIsLockedUntilTheFirstIsDisposed()
    {
        string path = _directory.Combine("alice");
        MailboxFile first = Open(path);

        var clock = Stopwatch.StartNew();
        MailboxOpenResult result = MailboxFile.TryOpen(path, ShortWait, out MailboxFile? second, out string? error);
        clock.Stop();

        Assert.Equal(MailboxOpenResult.Locked, result);
        Assert.Null(second);
        Assert.Equal($"{path} is locked: {path}.lock exists", error);
        Assert.InRange(clock.Elapsed, ShortWait, ShortWait + TimeSpan.FromSeconds(5));

        first.Dispose();
        using MailboxFile third = Open(path);
    }

    [Fact]
    public async Task TryOpenWaitsForALockThatIsReleasedWithinTheTimeout()
    {
        string path = _directory.Combine("alice");
        MailboxFile first = Open(path);
        var opener = new TaskCompletionSource<Thread>(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<MailboxOpenResult> second = Task.Run(() =>
        {
            opener.SetResult(Thread.CurrentThread);
            MailboxOpenResult result = MailboxFile.TryOpen(path, TimeSpan.FromSeconds(30), out MailboxFile? mailbox, out _);
            mailbox?.Dispose();
            return result;
        });
        // The second open sleeps between attempts only after it found the lock held: release it after that.
        Thread thread = await opener.Task;
        await Wait.UntilAsync(() => (thread.ThreadState & System.Threading.ThreadState.WaitSleepJoin) != 0,
            because: "the second open to find the lock held and wait to try again");
        first.Dispose();

        Assert.Equal(MailboxOpenResult.Opened, await second.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void AnFcntlLockAloneKeepsTheMailboxLockedAndLeavesNoDotlock()
    {
        string path = _directory.Combine("alice");
        File.WriteAllText(path, "");
        Assert.Equal(0, Libc.Open(path, OpenFlags.ReadWrite, 0, out var other));
        using (other)
        {
            Assert.Equal(0, Libc.OfdSetLock(other!, FileLockType.Write));

            MailboxOpenResult result = MailboxFile.TryOpen(path, ShortWait, out MailboxFile? mailbox, out string? error);

            Assert.Equal(MailboxOpenResult.Locked, result);
            Assert.Null(mailbox);
            Assert.Equal($"{path} is locked by another process (fcntl)", error);
            Assert.False(File.Exists(path + ".lock"));
        }
        using MailboxFile opened = Open(path);
    }

    [Python3Fact]
    public void AClassicFcntlLockOfAnotherProcessKeepsTheMailboxLocked()
    {
        string path = _directory.Combine("alice");
        File.WriteAllText(path, "");
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // lockf is F_SETLK, the lock mutt and mailx take.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(
            "import fcntl, sys\nf = open(sys.argv[1], 'r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\nsys.stdin.read()\n");
        start.ArgumentList.Add(path);
        using Process locker = Process.Start(start)!;
        Assert.Equal("locked", locker.StandardOutput.ReadLine());

        MailboxOpenResult result = MailboxFile.TryOpen(path, ShortWait, out MailboxFile? mailbox, out string? error);
        Assert.Equal(MailboxOpenResult.Locked, result);
        Assert.Null(mailbox);
        Assert.Equal($"{path} is locked by another process (fcntl)", error);

        locker.StandardInput.Close();
        Assert.True(locker.WaitForExit(30_000));
        using MailboxFile opened = Open(path);
    }

    [Fact]
    public void AStaleDotlockIsRemovedAndAFreshOneIsHonoured()
    {
        string path = _directory.Combine("alice");
        string lockPath = path + ".lock";
        File.WriteAllText(lockPath, "");

        MailboxOpenResult fresh = MailboxFile.TryOpen(path, ShortWait, out MailboxFile? mailbox, out _);
        Assert.Equal(MailboxOpenResult.Locked, fresh);
        Assert.Null(mailbox);
        Assert.True(File.Exists(lockPath));

        File.SetLastWriteTimeUtc(lockPath, DateTime.UtcNow - MailboxFile.StaleLockAge - TimeSpan.FromMinutes(1));
        using (MailboxFile opened = Open(path))
            Assert.True(File.Exists(lockPath));
        Assert.False(File.Exists(lockPath));
    }

    [Fact]
    public void ADotlockOfAProcessThatDiedIsRemovedAtOnceAndOneOfALiveProcessIsHonoured()
    {
        string path = _directory.Combine("alice");
        string lockPath = path + ".lock";
        using (Process gone = Process.Start("true")!)
        {
            gone.WaitForExit();
            File.WriteAllText(lockPath, gone.Id + "\n");
        }
        using (MailboxFile opened = Open(path))
        {
            Assert.Equal(Environment.ProcessId + "\n", File.ReadAllText(lockPath));
            // Made by link(2) from a temporary file that already held the pid; nothing of that is left.
            Assert.Equal(["alice", "alice.lock"], Directory.GetFiles(_directory.Path).Select(Path.GetFileName).Order());
        }
        Assert.False(File.Exists(lockPath));

        File.WriteAllText(lockPath, Environment.ProcessId + "\n");
        Assert.Equal(MailboxOpenResult.Locked, MailboxFile.TryOpen(path, ShortWait, out MailboxFile? mailbox, out _));
        Assert.Null(mailbox);
        File.Delete(lockPath);
    }

    [Fact]
    public void AppendThatFailsPartWayLeavesTheMailboxAsItWas()
    {
        string path = _directory.Combine("alice");
        byte[] before = Encoding.ASCII.GetBytes("From a  Thu Jan  1 00:00:00 1970\n\nkept\n\n");
        File.WriteAllBytes(path, before);
        byte[] good = new byte[20000];
        good.AsSpan().Fill((byte)'g');

        using (MailboxFile mailbox = Open(path))
        {
            var failing = Segments.Of(good, new ThrowingMemory(5000).Memory);
            var exception = Assert.Throws<InvalidOperationException>(() => mailbox.Append(failing));
            Assert.Equal("the content source failed", exception.Message);
            Assert.Equal(before.Length, mailbox.Length);
            Assert.Equal(before, File.ReadAllBytes(path));

            mailbox.Append(new ReadOnlySequence<byte>(before));
        }
        Assert.Equal([.. before, .. before], File.ReadAllBytes(path));
    }

    [TmpfsFact]
    public void AppendOnAFullDiskFailsCleanlyAndTruncatesBack()
    {
        using TinyTmpfs tmpfs = TinyTmpfs.Mount();
        string path = Path.Combine(tmpfs.Path, "alice");
        byte[] message = new byte[TinyTmpfs.Size * 5 / 8];
        "From a  Thu Jan  1 00:00:00 1970\n\n"u8.CopyTo(message);

        using (MailboxFile mailbox = Open(path))
        {
            mailbox.Append(new ReadOnlySequence<byte>(message));
            var exception = Assert.Throws<IOException>(() => mailbox.Append(new ReadOnlySequence<byte>(message)));
            Assert.Equal($"{path}: posix_fallocate of {message.Length} bytes at {message.Length}: No space left on device", exception.Message);
            Assert.Equal(Errno.ENOSPC, exception.HResult);
            Assert.Equal(message.Length, mailbox.Length);
        }
        Assert.Equal(message, File.ReadAllBytes(path));
    }

    [Fact]
    public void CheckRegionFindsACompleteAppendPresent()
    {
        string path = _directory.Combine("alice");
        byte[] content = Entry("one");
        long offset;
        using (MailboxFile mailbox = Open(path))
        {
            mailbox.Append(new ReadOnlySequence<byte>(Entry("before")));
            offset = mailbox.Length;
            mailbox.Append(new ReadOnlySequence<byte>(content));
        }
        uint crc = MailboxFile.Checksum(new ReadOnlySequence<byte>(content));

        Assert.Equal(MailboxRegionState.Present, Check(path, offset, content.Length, crc, out _));

        using (MailboxFile mailbox = Open(path))
            mailbox.Append(new ReadOnlySequence<byte>(Entry("after")));
        Assert.Equal(MailboxRegionState.Present, Check(path, offset, content.Length, crc, out _));
    }

    [Fact]
    public void CheckRegionFindsNothingWrittenAbsent()
    {
        string path = _directory.Combine("alice");
        File.WriteAllBytes(path, Entry("before"));
        long offset = new FileInfo(path).Length;

        Assert.Equal(MailboxRegionState.Absent, Check(path, offset, 100, 1234, out _));
        Assert.Equal(MailboxRegionState.Absent, Check(_directory.Combine("nobody"), 0, 100, 1234, out _));
        Assert.Equal(offset, new FileInfo(path).Length);
    }

    [Fact]
    public void CheckRegionRollsBackAPartialAppend()
    {
        // The file was extended to its full new length first; the copy stopped half way, the rest reads as NULs.
        string path = _directory.Combine("alice");
        byte[] before = Entry("before");
        byte[] content = Entry("one");
        File.WriteAllBytes(path, [.. before, .. content.AsSpan(0, content.Length / 2), .. new byte[content.Length - (content.Length / 2)]]);

        MailboxRegionState state = Check(path, before.Length, content.Length, MailboxFile.Checksum(content.AsMemory()), out string? detail);

        Assert.Equal(MailboxRegionState.RolledBack, state);
        Assert.Equal($"{path}: removed {content.Length} bytes of an interrupted append at {before.Length}", detail);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void CheckRegionLeavesAShorterMailboxThatAMailReaderRewroteAlone()
    {
        // After the append, a reader expunged a message: the file is now shorter than the region and a kept
        // message starts at the recorded offset. Cutting there would destroy the user's mail.
        string path = _directory.Combine("alice");
        byte[] before = Entry("before");
        byte[] content = Entry("one");
        byte[] kept = Entry("kept");
        Assert.True(kept.Length < content.Length + 10);
        File.WriteAllBytes(path, [.. before, .. kept.AsSpan(0, Math.Min(kept.Length, content.Length - 1))]);
        byte[] original = File.ReadAllBytes(path);

        MailboxRegionState state = Check(path, before.Length, content.Length, MailboxFile.Checksum(content.AsMemory()), out _);

        Assert.Equal(MailboxRegionState.Changed, state);
        Assert.Equal(original, File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-10)]
    public void CheckRegionRollsBackANulFilledTail(int shorter)
    {
        string path = _directory.Combine("alice");
        byte[] before = Entry("before");
        byte[] content = Entry("one");
        File.WriteAllBytes(path, [.. before, .. new byte[content.Length + shorter]]);

        MailboxRegionState state = Check(path, before.Length, content.Length, MailboxFile.Checksum(content.AsMemory()), out _);

        Assert.Equal(MailboxRegionState.RolledBack, state);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void CheckRegionRollsBackAWholeRegionWithTheWrongChecksum()
    {
        string path = _directory.Combine("alice");
        byte[] before = Entry("before");
        byte[] content = Entry("one");
        byte[] torn = [.. content];
        torn.AsSpan(content.Length / 2).Clear();
        File.WriteAllBytes(path, [.. before, .. torn]);

        MailboxRegionState state = Check(path, before.Length, content.Length, MailboxFile.Checksum(content.AsMemory()), out _);

        Assert.Equal(MailboxRegionState.RolledBack, state);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void CheckRegionReportsARewrittenMailboxChangedAndLeavesItAlone()
    {
        string path = _directory.Combine("alice");
        byte[] before = Entry("before");
        byte[] content = Entry("one");
        uint crc = MailboxFile.Checksum(content.AsMemory());

        // Shorter than the offset: messages were deleted.
        File.WriteAllBytes(path, before.AsSpan(0, 10).ToArray());
        Assert.Equal(MailboxRegionState.Changed, Check(path, before.Length, content.Length, crc, out string? detail));
        Assert.Equal($"{path} is 10 bytes, shorter than the recorded append at {before.Length}", detail);

        // Other bytes at the offset and more after them.
        byte[] other = [.. Entry("other message"), .. Entry("and another")];
        File.WriteAllBytes(path, [.. before, .. other]);
        Assert.Equal(MailboxRegionState.Changed, Check(path, before.Length, content.Length, crc, out _));
        Assert.Equal(before.Length + other.Length, new FileInfo(path).Length);

        // A tail inside the region that is not the start of an mbox entry: the middle of some other message.
        File.WriteAllBytes(path, [.. before, .. "middle of a message\n"u8]);
        Assert.Equal(MailboxRegionState.Changed, Check(path, before.Length, content.Length, crc, out _));
        Assert.Equal(before.Length + 20, new FileInfo(path).Length);

        // Gone altogether.
        Assert.Equal(MailboxRegionState.Changed, Check(_directory.Combine("nobody"), 10, content.Length, crc, out _));
    }

    [Fact]
    public void CheckRegionReportsAHeldLockAsLocked()
    {
        string path = _directory.Combine("alice");
        using MailboxFile mailbox = Open(path);

        Assert.Equal(MailboxRegionState.Locked, MailboxFile.CheckRegion(path, 0, 10, 0, ShortWait, out string? detail));
        Assert.Equal($"{path} is locked: {path}.lock exists", detail);
    }

    [Fact]
    public void CheckRegionReportsARefusedMailboxChanged()
    {
        string path = _directory.Combine("alice");
        File.CreateSymbolicLink(path, _directory.Combine("target"));

        Assert.Equal(MailboxRegionState.Changed, Check(path, 0, 10, 0, out string? detail));
        Assert.Equal($"{path} is a symbolic link", detail);
    }

    private static MailboxFile Open(string path)
    {
        MailboxOpenResult result = MailboxFile.TryOpen(path, TimeSpan.FromSeconds(5), out MailboxFile? mailbox, out string? error);
        Assert.True(result == MailboxOpenResult.Opened, $"{result}: {error}");
        return mailbox!;
    }

    private static MailboxRegionState Check(string path, long offset, long length, uint crc, out string? detail) =>
        MailboxFile.CheckRegion(path, offset, length, crc, TimeSpan.FromSeconds(5), out detail);

    private static byte[] Entry(string text) =>
        Encoding.ASCII.GetBytes($"From a@example.org  Thu Jan  1 00:00:00 1970\nSubject: {text}\n\n{text}\n\n");

    /// <summary>The separator and the encoded wire-form message, as local delivery appends them.</summary>
    private static ReadOnlySequence<byte> MboxEntry(string sender, string recipient, DateTimeOffset time, int number, string body)
    {
        string wire = $"Status: RO\r\nX-UID: 7\r\nFrom: <{(sender.Length == 0 ? "mailer-daemon@example.org" : sender)}>\r\n"
            + $"To: <{recipient}>\r\nSubject: Message {number}\r\nMessage-ID: <{number}@example.org>\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + body;
        byte[] senderBytes = Encoding.UTF8.GetBytes(sender);
        byte[] recipientBytes = Encoding.UTF8.GetBytes(recipient);
        byte[] separator = new byte[MboxEncoder.GetSeparatorLength(senderBytes, recipientBytes)];
        MboxEncoder.WriteSeparator(separator, senderBytes, recipientBytes, time);

        var output = new ArrayBufferWriter<byte>();
        var encoder = default(MboxEncoder);
        byte[] wireBytes = Encoding.UTF8.GetBytes(wire);
        for (int i = 0; i < wireBytes.Length; i += 7) // in odd pieces, as queue chunks would come
            encoder.Encode(wireBytes.AsSpan(i, Math.Min(7, wireBytes.Length - i)), output);
        encoder.Finish(output);
        return Segments.Of(separator, output.WrittenMemory);
    }
}
