using System.Text;
using FastSpool.Delivery.Maildrop;
using FastSpool.Delivery.Mbox;
using FastSpool.Delivery.Tests.Support;
using FastSpool.Posix;
using FastSpool.Tests;
using MimeKit;

namespace FastSpool.Delivery.Tests.Maildrop;

using Maildrop = FastSpool.Delivery.Maildrop.Maildrop;

public sealed class MaildropTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly MailboxHolders _holders = new();

    public void Dispose() => _directory.Dispose();

    private string MailboxPath => Path.Combine(_directory.Path, "mail", "alice");

    private string IndexPath => Path.Combine(_directory.Path, "pop3", "alice.index");

    private static string Entry(string subject, string body = "hello\n") =>
        $"From bob@example.org  Mon Nov 30 10:00:00 2026\nReturn-Path: <bob@example.org>\nDelivered-To: alice@localhost\nSubject: {subject}\n\n{body}\n";

    private void Write(params string[] entries)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(MailboxPath)!);
        File.WriteAllText(MailboxPath, string.Concat(entries));
    }

    private Maildrop Open()
    {
        MaildropOpenResult result = Maildrop.TryOpen(MailboxPath, MailboxOwner.Server, MailboxFile.DefaultMode, IndexPath, TimeSpan.Zero,
            _holders, TimeProvider.System, out Maildrop? maildrop, out string? error);
        Assert.True(result == MaildropOpenResult.Opened, error);
        return maildrop!;
    }

    private static List<string> Uids(Maildrop maildrop)
    {
        var uids = new List<string>();
        Span<byte> buffer = stackalloc byte[80];
        for (int i = 0; i < maildrop.Count; i++)
            uids.Add(Encoding.ASCII.GetString(buffer[..maildrop.FormatUid(i, buffer)]));
        return uids;
    }

    private static List<string> Subjects(string path)
    {
        using FileStream stream = File.OpenRead(path);
        var parser = new MimeParser(stream, MimeFormat.Mbox);
        var subjects = new List<string>();
        while (!parser.IsEndOfStream)
            subjects.Add(parser.ParseMessage().Subject ?? "");
        return subjects;
    }

    [Fact]
    public void MessagesAreFoundWithTheirTextAndCrlfSizes()
    {
        Write(Entry("one", ".dot\n>From x\n"), Entry("two", ">From y\n\nbody\n"), Entry("three"));
        using Maildrop maildrop = Open();
        Assert.Equal(3, maildrop.Count);
        string first = Encoding.UTF8.GetString(maildrop.Content(0));
        Assert.Equal("Return-Path: <bob@example.org>\nDelivered-To: alice@localhost\nSubject: one\n\n.dot\n>From x\n", first);
        for (int i = 0; i < 3; i++)
        {
            string text = Encoding.UTF8.GetString(maildrop.Content(i));
            Assert.Equal(text.Replace("\n", "\r\n", StringComparison.Ordinal).Length, maildrop[i].Size);
        }
        Assert.Equal(maildrop[0].Size + maildrop[1].Size + maildrop[2].Size, maildrop.TotalSize);
    }

    [Fact]
    public void AnOpenedMaildropKeepsNoMoreResidentThanTheMessageBeingRead()
    {
        string body = string.Concat(Enumerable.Repeat(new string('x', 79) + "\n", 256)); // 20 KiB
        Write([.. Enumerable.Range(0, 300).Select(i => Entry("m" + i, body))]);     // 6 MiB
        using Maildrop maildrop = Open(); // indexed: the scan read it all
        Assert.Equal(300, maildrop.Count);
        long afterScan = ResidentMemory.OfMappedFile(MailboxPath);
        Assert.True(afterScan < 1024, $"{afterScan} KiB of the 6 MiB mailbox resident after the index scan");
        long sum = 0;
        for (int i = 0; i < maildrop.Count; i++)
        {
            foreach (byte b in maildrop.Content(i))
                sum += b;
        }
        Assert.True(sum > 0);
        long read = ResidentMemory.OfMappedFile(MailboxPath);
        Assert.True(read > 4096, $"only {read} KiB of the 6 MiB mailbox resident after reading it all"); // the measure works
        for (int i = maildrop.Count - 1; i >= 0; i--) // newest first, as some clients fetch
        {
            foreach (byte b in maildrop.Content(i))
                sum += b;
            maildrop.Release(i, maildrop.Content(i).Length);
        }
        long afterReading = ResidentMemory.OfMappedFile(MailboxPath);
        Assert.True(afterReading < 1024, $"{afterReading} KiB of the 6 MiB mailbox resident after every message was read and released");
        Assert.Equal("Return-Path: <bob@example.org>\nDelivered-To: alice@localhost\nSubject: m299\n\n" + body, Encoding.ASCII.GetString(maildrop.Content(299))); // read again: mapped again
    }

    [Fact]
    public void AFileThatIsNotAnMboxIsRefusedAndLeftAlone()
    {
        Write("Subject: not an mbox\n\nhello\n");
        MaildropOpenResult result = Maildrop.TryOpen(MailboxPath, MailboxOwner.Server, MailboxFile.DefaultMode, IndexPath, TimeSpan.Zero,
            _holders, TimeProvider.System, out _, out string? error);
        Assert.Equal(MaildropOpenResult.Failed, result);
        Assert.Contains("not an mbox", error);
        Assert.False(File.Exists(MailboxPath + ".lock"));
        using Maildrop again = Open_AfterFix();
        Assert.Equal(1, again.Count);
    }

    private Maildrop Open_AfterFix()
    {
        Write(Entry("fixed"));
        return Open();
    }

    [Fact]
    public void UidlsStayTheSameAcrossSessionsAppendsAndARewriteByAMua()
    {
        Write(Entry("one"), Entry("two"));
        List<string> first;
        using (Maildrop maildrop = Open())
            first = Uids(maildrop);
        Assert.Equal(2, first.Distinct().Count());
        Assert.All(first, u => Assert.Matches("^[\\x21-\\x7e]{1,70}$", u));

        File.AppendAllText(MailboxPath, Entry("three", "X-UIDL: forged\n"));
        List<string> second;
        using (Maildrop maildrop = Open())
            second = Uids(maildrop);
        Assert.Equal(first, second[..2]);
        Assert.DoesNotContain(second[2], first);
        Assert.DoesNotContain("forged", second[2]);

        // A MUA rewrites the file (a new inode), adding Status headers and dropping message one.
        string rewritten = Entry("two").Replace("Subject: two\n", "Subject: two\nStatus: RO\n", StringComparison.Ordinal)
            + Entry("three", "X-UIDL: forged\n").Replace("Subject: three\n", "Subject: three\nStatus: O\n", StringComparison.Ordinal);
        File.WriteAllText(MailboxPath + ".new", rewritten);
        File.Move(MailboxPath + ".new", MailboxPath, overwrite: true);
        using (Maildrop maildrop = Open())
            Assert.Equal(second[1..], Uids(maildrop));

        // Lost index: new numbers, none of them an old one.
        File.Delete(IndexPath);
        using (Maildrop maildrop = Open())
            Assert.Empty(Uids(maildrop).Intersect(second));
    }

    [Fact]
    public async Task TheUpdateRemovesDeletedMessagesKeepsMailDeliveredMeanwhileAndTheFileModeAndItIsIndexedAfter()
    {
        Write(Entry("one"), Entry("two"), Entry("three"));
        File.SetUnixFileMode(MailboxPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        List<string> uids;
        using (Maildrop maildrop = Open())
        {
            uids = Uids(maildrop);
            Assert.True(_holders.TryFind(MailboxPath, out MailboxHold hold));
            using (MailboxFile held = MailboxFile.OpenHeld(hold.Lock!))
                held.Append(new System.Buffers.ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(Entry("during"))));
            Assert.Null(await maildrop.UpdateAsync([false, true, false], null, CancellationToken.None));
            Assert.False(_holders.TryFind(MailboxPath, out _));
        }
        Assert.Equal(["one", "three", "during"], Subjects(MailboxPath));
        Assert.Equal(Entry("one") + Entry("three") + Entry("during"), File.ReadAllText(MailboxPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(MailboxPath));
        Assert.False(File.Exists(MailboxPath + ".lock"));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(MailboxPath)!, ".alice.pop3-*"));
        using (Maildrop maildrop = Open())
        {
            List<string> after = Uids(maildrop);
            Assert.Equal([uids[0], uids[2]], after[..2]);
            Assert.Equal(3, after.Distinct().Count());
            Assert.Equal("Return-Path: <bob@example.org>\nDelivered-To: alice@localhost\nSubject: during\n\nhello\n", Encoding.UTF8.GetString(maildrop.Content(2)));
        }
    }

    [Fact]
    public async Task AfterAnUpdateAnAppendsRegionIsFoundWhereTheUpdatePutItOrKnownDeleted()
    {
        Write(Entry("one"), Entry("two"), Entry("three"));
        long twoAt = Entry("one").Length, threeAt = twoAt + Entry("two").Length, tailAt = threeAt + Entry("three").Length;
        byte[] during = Encoding.UTF8.GetBytes(Entry("during"));
        using (Maildrop maildrop = Open())
        {
            Assert.True(_holders.TryFind(MailboxPath, out MailboxHold hold));
            using (MailboxFile held = MailboxFile.OpenHeld(hold.Lock!))
                held.Append(new System.Buffers.ReadOnlySequence<byte>(during));
            Assert.Null(await maildrop.UpdateAsync([false, true, false], null, CancellationToken.None));
        }
        Assert.True(MboxIndex.TryRelocate(IndexPath, MailboxPath, threeAt, Entry("three").Length, out long three));
        Assert.Equal(twoAt, three);
        Assert.True(MboxIndex.TryRelocate(IndexPath, MailboxPath, tailAt, during.Length, out long tail));
        Assert.Equal(twoAt + Entry("three").Length, tail);
        Assert.Equal(MailboxRegionState.Present, MailboxFile.CheckRegion(MailboxPath, tail, during.Length, Crc32C.Compute(during), TimeSpan.Zero, out _));
        Assert.True(MboxIndex.TryRelocate(IndexPath, MailboxPath, twoAt, Entry("two").Length, out long two));
        Assert.Equal(-1, two);
        Assert.False(MboxIndex.TryRelocate(IndexPath, MailboxPath, tailAt + during.Length, 10, out _)); // not in the old file

        // Once something else replaces the file, the update's map no longer applies.
        File.WriteAllText(MailboxPath + ".new", File.ReadAllText(MailboxPath));
        File.Move(MailboxPath + ".new", MailboxPath, overwrite: true);
        Assert.False(MboxIndex.TryRelocate(IndexPath, MailboxPath, threeAt, Entry("three").Length, out _));
    }

    [Fact]
    public void WithoutAnUpdateNothingChanges()
    {
        Write(Entry("one"), Entry("two"));
        byte[] before = File.ReadAllBytes(MailboxPath);
        using (Open())
        {
        }
        Assert.Equal(before, File.ReadAllBytes(MailboxPath));
    }

    [Fact]
    public void ASecondHolderIsToldTheMailboxIsInUse()
    {
        Write(Entry("one"));
        using Maildrop first = Open();
        Assert.Equal(MaildropOpenResult.InUse, Maildrop.TryOpen(MailboxPath, MailboxOwner.Server, MailboxFile.DefaultMode, IndexPath, TimeSpan.Zero,
            _holders, TimeProvider.System, out _, out _));
        // Another process (here: another table, so only the file locks stand in the way).
        Assert.Equal(MaildropOpenResult.InUse, Maildrop.TryOpen(MailboxPath, MailboxOwner.Server, MailboxFile.DefaultMode, IndexPath, TimeSpan.Zero,
            new MailboxHolders(), TimeProvider.System, out _, out _));
        Assert.Equal(MailboxOpenResult.Locked, MailboxFile.TryOpen(MailboxPath, TimeSpan.Zero, out _, out _));
    }

    [Fact]
    public void ALeftoverOfAKilledUpdateIsRemovedAtTheNextOpen()
    {
        Write(Entry("one"));
        string leftover = Path.Combine(Path.GetDirectoryName(MailboxPath)!, ".alice.pop3-999-1");
        File.WriteAllText(leftover, "half");
        using Maildrop maildrop = Open();
        Assert.False(File.Exists(leftover));
        Assert.Equal(1, maildrop.Count);
    }

    [Theory]
    [InlineData("Subject: x\n\nl1\nl2\nl3\n", 0, "Subject: x\n\n")]
    [InlineData("Subject: x\n\nl1\nl2\nl3\n", 2, "Subject: x\n\nl1\nl2\n")]
    [InlineData("Subject: x\n\nl1\nl2\nl3\n", 9, "Subject: x\n\nl1\nl2\nl3\n")]
    [InlineData("Subject: x\n", 3, "Subject: x\n")]
    [InlineData("\nbody\n", 1, "\nbody\n")]
    public void TopSendsTheHeaderTheBlankLineAndNLines(string content, int lines, string expected) =>
        Assert.Equal(expected.Length, MboxScanner.TopLength(Encoding.ASCII.GetBytes(content), lines));
}
