using System.Runtime.Versioning;
using FastSpool.Users;

namespace FastSpool.Core.Tests.Users;

public sealed class UserStoreTests : IDisposable
{
    private const string HashA = "$pbkdf2-sha256$1$c2FsdA==$aGFzaC1h";
    private const string HashB = "$pbkdf2-sha256$1$c2FsdA==$aGFzaC1i";

    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void AMissingFileMeansNoUsers()
    {
        var store = new UserStore(Path.Combine(_directory.Path, "not-yet"));

        Assert.Empty(store.List());
        Assert.False(store.Contains("alice"u8));
    }

    [Fact]
    public void AddedUsersAreListedInOrderAndWrittenAsNameColonHash()
    {
        var store = new UserStore(_directory.Path);

        Assert.True(store.Add("carol", HashA));
        Assert.True(store.Add("Alice", null));

        Assert.Equal(["alice", "carol"], store.List());
        string[] lines = File.ReadAllLines(_directory.File("users"));
        Assert.StartsWith("#", lines[0]);
        Assert.Equal(["carol:" + HashA, "alice:"], lines[1..]);
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public void TheFileIsReadableByItsOwnerOnly()
    {
        new UserStore(_directory.Path).Add("alice", HashA);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_directory.File("users")));
        Assert.False(File.Exists(_directory.File("users.tmp")));
    }

    [Fact]
    public void UsersPersistAcrossInstances()
    {
        var first = new UserStore(_directory.Path);
        first.Add("alice", HashA);
        first.Add("bob", null);

        var second = new UserStore(_directory.Path);

        Assert.Equal(["alice", "bob"], second.List());
        Assert.True(second.TryGetPasswordHash("alice", out string? hash));
        Assert.Equal(HashA, hash);
    }

    [Fact]
    public void AddRefusesAUserThatExistsInAnyCase()
    {
        var store = new UserStore(_directory.Path);
        store.Add("alice", HashA);

        Assert.False(store.Add("ALICE", HashB));
        Assert.True(store.TryGetPasswordHash("alice", out string? hash));
        Assert.Equal(HashA, hash);
    }

    [Theory]
    [InlineData("")]
    [InlineData("../etc/passwd")]
    [InlineData(".alice")]
    [InlineData("al ice")]
    public void AddRefusesInvalidNames(string name)
    {
        var store = new UserStore(_directory.Path);

        Assert.Throws<ArgumentException>(() => store.Add(name, null));
        Assert.False(File.Exists(_directory.File("users")));
    }

    [Theory]
    [InlineData("a:b")]
    [InlineData("a\nbob:")]
    [InlineData("a b")]
    public void AddRefusesHashesThatWouldBreakTheLineFormat(string hash)
    {
        var store = new UserStore(_directory.Path);

        Assert.Throws<ArgumentException>(() => store.Add("alice", hash));
    }

    [Fact]
    public void RemoveDeletesOnlyThatUser()
    {
        var store = new UserStore(_directory.Path);
        store.Add("alice", HashA);
        store.Add("bob", HashB);

        Assert.True(store.Remove("Alice"));
        Assert.False(store.Remove("alice"));

        Assert.Equal(["bob"], store.List());
        Assert.Equal(["bob"], new UserStore(_directory.Path).List());
    }

    [Fact]
    public void SetPasswordReplacesTheHashAndCanClearIt()
    {
        var store = new UserStore(_directory.Path);
        store.Add("alice", HashA);

        Assert.True(store.SetPassword("alice", HashB));
        Assert.True(store.TryGetPasswordHash("ALICE", out string? hash));
        Assert.Equal(HashB, hash);

        Assert.True(store.SetPassword("alice", null));
        Assert.False(store.TryGetPasswordHash("alice", out _));
        Assert.True(store.Contains("alice"u8));
        Assert.False(store.SetPassword("nobody", HashA));
    }

    [Fact]
    public void AUserWithoutAPasswordHasNoHash()
    {
        var store = new UserStore(_directory.Path);
        store.Add("alice", null);

        Assert.True(store.Contains("alice"u8));
        Assert.False(store.TryGetPasswordHash("alice", out string? hash));
        Assert.Null(hash);
    }

    [Fact]
    public void LookupIsAsciiCaseInsensitive()
    {
        var store = new UserStore(_directory.Path);
        store.Add("alice", null);

        Assert.True(store.Contains("alice"u8));
        Assert.True(store.Contains("ALICE"u8));
        Assert.True(store.Contains("aLiCe".AsSpan()));
        Assert.False(store.Contains("alic"u8));
        Assert.False(store.Contains("alice2"u8));
    }

    [Fact]
    public void LookupRejectsNonAsciiEmptyAndOverlongLocalParts()
    {
        var store = new UserStore(_directory.Path);
        store.Add("alice", null);

        Assert.False(store.Contains("al\u00efce"u8));
        Assert.False(store.Contains(""u8));
        Assert.False(store.Contains(new byte[1000]));
    }

    [Fact]
    public void ContainsAllocatesNothing()
    {
        var store = new UserStore(_directory.Path);
        store.Add("alice", null);
        bool found = true;
        for (int i = 0; i < 1000; i++)
            found &= store.Contains("ALICE"u8) & !store.Contains("nobody"u8);
        store.Refresh(); // the next file check is a second away, well after the loop

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            found &= store.Contains("ALICE"u8) & !store.Contains("nobody"u8) & !store.Contains("n\u00f6"u8);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(found);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void AnotherInstanceSeesChangesAfterRefresh()
    {
        var reader = new UserStore(_directory.Path);
        var writer = new UserStore(_directory.Path);

        writer.Add("alice", null);
        reader.Refresh();

        Assert.True(reader.Contains("alice"u8));
    }

    [Fact]
    public void AnotherInstanceNoticesAChangedFileOnItsNextCheck()
    {
        var reader = new UserStore(_directory.Path, TimeSpan.Zero);
        Assert.False(reader.Contains("alice"u8));

        new UserStore(_directory.Path).Add("alice", null);
        Assert.True(reader.Contains("alice"u8));

        _directory.Write("users", "bob:\n");
        Assert.False(reader.Contains("alice"u8));
        Assert.True(reader.Contains("bob"u8));
    }

    [Fact]
    public async Task AnotherInstanceNoticesAChangedFileWithinAboutASecond()
    {
        var reader = new UserStore(_directory.Path);
        Assert.False(reader.Contains("alice"u8));

        new UserStore(_directory.Path).Add("alice", null);

        await Wait.UntilAsync(() => reader.Contains("alice"u8), TimeSpan.FromSeconds(5), "the reader to see alice, added by another instance");
    }

    [Fact]
    public void ConcurrentAddsFromSeveralThreadsAndInstancesLoseNothing()
    {
        const int Threads = 4;
        const int UsersPerThread = 15;
        var shared = new UserStore(_directory.Path);
        using var start = new Barrier(Threads);
        var errors = new List<Exception>();
        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int thread = t;
            // Two threads share an instance (the in-process lock), two have their own (the lock file).
            UserStore store = thread < 2 ? shared : new UserStore(_directory.Path);
            threads[t] = new Thread(() =>
            {
                try
                {
                    start.SignalAndWait();
                    for (int i = 0; i < UsersPerThread; i++)
                        Assert.True(store.Add($"user{thread}-{i}", HashA));
                }
                catch (Exception e)
                {
                    lock (errors)
                        errors.Add(e);
                }
            });
            threads[t].Start();
        }
        foreach (Thread thread in threads)
            thread.Join();

        Assert.Empty(errors);
        IReadOnlyList<string> users = new UserStore(_directory.Path).List();
        Assert.Equal(Threads * UsersPerThread, users.Count);
        for (int t = 0; t < Threads; t++)
        {
            for (int i = 0; i < UsersPerThread; i++)
                Assert.Contains($"user{t}-{i}", users);
        }
    }

    [Fact]
    public void ReadersAlwaysSeeACompleteFileWhileAWriterReplacesIt()
    {
        new UserStore(_directory.Path).Add("alice", HashA);
        // A zero check interval makes every lookup look at the file, so readers reload while it is being replaced.
        var reader = new UserStore(_directory.Path, TimeSpan.Zero);
        var writer = new UserStore(_directory.Path);
        int misses = 0;
        int lookups = 0;
        using var done = new ManualResetEventSlim();
        var readers = new Thread[3];
        for (int r = 0; r < readers.Length; r++)
        {
            readers[r] = new Thread(() =>
            {
                while (!done.IsSet)
                {
                    if (!reader.Contains("alice"u8))
                        Interlocked.Increment(ref misses);
                    Interlocked.Increment(ref lookups);
                }
            });
            readers[r].Start();
        }

        for (int i = 0; i < 30; i++)
            writer.Add($"user{i}", HashB);
        done.Set();
        foreach (Thread thread in readers)
            thread.Join();

        Assert.Equal(0, misses);
        Assert.True(lookups > 0);
        Assert.True(reader.Contains("user29"u8));
    }

    [Fact]
    public void WritingIntoAMissingDirectoryFailsWithAnIOException()
    {
        var store = new UserStore(Path.Combine(_directory.Path, "missing"));

        Assert.ThrowsAny<IOException>(() => store.Add("alice", null));
    }

    [Fact]
    public void CommentsAndOtherLinesSurviveARewrite()
    {
        _directory.Write("users", "# our users\r\nalice:" + HashA + "\r\n\r\n# receive only\r\nbob\r\n");
        var store = new UserStore(_directory.Path);

        store.Add("carol", null);
        store.SetPassword("bob", HashB);

        Assert.Equal(
            "# our users\nalice:" + HashA + "\n\n# receive only\nbob:" + HashB + "\ncarol:\n",
            File.ReadAllText(_directory.File("users")));
    }

    [Fact]
    public void MalformedAndDuplicateLinesAreSkippedWithWarnings()
    {
        _directory.Write("users", "alice:" + HashA + "\n../root:x\n  # indented comment\nALICE:" + HashB + "\n  bob : " + HashB + "\n");

        var store = new UserStore(_directory.Path);

        Assert.Equal(["alice", "bob"], store.List());
        Assert.True(store.TryGetPasswordHash("alice", out string? hash));
        Assert.Equal(HashA, hash);
        Assert.Equal(2, store.Warnings.Count);
        Assert.StartsWith("users line 2: invalid user name '../root'", store.Warnings[0], StringComparison.Ordinal);
        Assert.StartsWith("users line 4: duplicate user 'alice'", store.Warnings[1], StringComparison.Ordinal);
    }

    [Fact]
    public void RemoveDropsDuplicateEntriesToo()
    {
        _directory.Write("users", "alice:" + HashA + "\nAlice:" + HashB + "\nbob:\n");
        var store = new UserStore(_directory.Path);

        Assert.True(store.Remove("alice"));

        Assert.Equal("bob:\n", File.ReadAllText(_directory.File("users")));
    }
}
