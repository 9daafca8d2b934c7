using FastSpool.Users;

namespace FastSpool.Core.Tests.Users;

public sealed class SystemAccountsTests : IDisposable
{
    private const string Passwd =
        "root:x:0:0:root:/root:/bin/bash\n" +
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
        "_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n" +
        "Admin:x:1001:1001::/home/Admin:/bin/sh\n" +
        "machine$:x:1002:1002::/:/bin/false\n" +
        "+nisuser::::::\n" +
        "broken line\n" +
        "baduid:x:abc:0::/:/bin/sh\n" +
        "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n";

    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void AccountsAreReadFromThePasswdFile()
    {
        _directory.Write("passwd", Passwd);
        var accounts = new SystemAccounts(_directory.File("passwd"));

        Assert.True(accounts.Contains("root"u8));
        Assert.True(accounts.Contains("daemon"u8));
        Assert.True(accounts.Contains("ALICE"u8));
        Assert.True(accounts.Contains("alice".AsSpan()));
        Assert.False(accounts.Contains("bob"u8));
    }

    [Theory]
    [InlineData("_apt")]
    [InlineData("admin")]
    [InlineData("Admin")]
    [InlineData("machine$")]
    [InlineData("+nisuser")]
    [InlineData("broken line")]
    [InlineData("baduid")]
    public void AccountsThatCannotBeSafeMailboxNamesAreLeftOut(string name)
    {
        _directory.Write("passwd", Passwd);
        var accounts = new SystemAccounts(_directory.File("passwd"));

        Assert.False(accounts.Contains(name.AsSpan()));
        Assert.False(accounts.Contains(System.Text.Encoding.UTF8.GetBytes(name)));
    }

    [Fact]
    public void AMissingFileMeansNoAccounts()
    {
        var accounts = new SystemAccounts(_directory.File("passwd"));

        Assert.False(accounts.Contains("root"u8));
    }

    [Fact]
    public void TheDefaultFileIsEtcPasswd()
    {
        Assert.Equal("/etc/passwd", new SystemAccounts().FilePath);
    }

    [Fact]
    public void TheAccountsReloadWhenTheFileChanges()
    {
        _directory.Write("passwd", Passwd);
        var accounts = new SystemAccounts(_directory.File("passwd"), TimeSpan.Zero);
        Assert.False(accounts.Contains("bob"u8));

        File.AppendAllText(_directory.File("passwd"), "bob:x:1003:1003::/home/bob:/bin/sh\n");

        Assert.True(accounts.Contains("bob"u8));
    }

    [Fact]
    public void ContainsAllocatesNothing()
    {
        _directory.Write("passwd", Passwd);
        var accounts = new SystemAccounts(_directory.File("passwd"));
        bool found = true;
        for (int i = 0; i < 1000; i++)
            found &= accounts.Contains("Root"u8) & !accounts.Contains("nobody"u8);
        accounts.Refresh();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            found &= accounts.Contains("Root"u8) & !accounts.Contains("nobody"u8);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(found);
        Assert.Equal(0, allocated);
    }
}
