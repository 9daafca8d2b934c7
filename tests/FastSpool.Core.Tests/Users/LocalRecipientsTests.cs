using FastSpool.Users;

namespace FastSpool.Core.Tests.Users;

public sealed class LocalRecipientsTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly UserStore _users;
    private readonly AliasTable _aliases;
    private readonly SystemAccounts _accounts;

    public LocalRecipientsTests()
    {
        _directory.Write("aliases", "staff: Alice, root, bob@example.org\nghosts: casper\nwebmaster: nobody-here\n");
        _directory.Write("passwd",
            "root:x:0:0:root:/root:/bin/bash\n" +
            "Admin:x:1001:1001::/home/Admin:/bin/sh\n" +
            "_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n");
        _users = new UserStore(_directory.Path);
        _users.Add("alice", null);
        _aliases = new AliasTable(_directory.Path);
        _accounts = new SystemAccounts(_directory.File("passwd"));
    }

    public void Dispose() => _directory.Dispose();

    private LocalRecipients Recipients(bool systemUsers) => new(_users, _aliases, _accounts, systemUsers);

    [Fact]
    public void PostmasterIsAlwaysDeliverableInAnyCase()
    {
        var empty = new LocalRecipients(
            new UserStore(_directory.File("empty")), new AliasTable(_directory.File("empty")), null, systemUsers: false);

        Assert.True(empty.IsDeliverable("postmaster"u8));
        Assert.True(empty.IsDeliverable("PostMaster"u8));
        Assert.False(empty.IsDeliverable("postmasters"u8));
    }

    [Fact]
    public void PostmasterWithoutAnAliasResolvesToItsOwnMailbox()
    {
        RecipientResolution result = Recipients(systemUsers: false).Resolve("POSTMASTER");

        Assert.Equal(["postmaster"], result.Mailboxes);
        Assert.Empty(result.Problems);
    }

    [Fact]
    public void APostmasterAliasIsFollowed()
    {
        File.AppendAllText(_directory.File("aliases"), "postmaster: alice\n");
        _aliases.Refresh();

        Assert.Equal(["alice"], Recipients(systemUsers: false).Resolve("postmaster").Mailboxes);
    }

    [Fact]
    public void APostmasterAliasThatLeadsNowhereFallsBackToThePostmasterMailbox()
    {
        File.AppendAllText(_directory.File("aliases"), "postmaster: ghost\n");
        _aliases.Refresh();

        RecipientResolution result = Recipients(systemUsers: false).Resolve("postmaster");

        Assert.Equal(["postmaster"], result.Mailboxes);
        Assert.Equal(["no such user 'ghost' (from alias 'postmaster')"], result.Problems);
    }

    [Fact]
    public void UsersAndAliasesAreDeliverable()
    {
        LocalRecipients recipients = Recipients(systemUsers: false);

        Assert.True(recipients.IsDeliverable("ALICE"u8));
        Assert.True(recipients.IsDeliverable("staff"u8));
        Assert.False(recipients.IsDeliverable("bob"u8));
        Assert.False(recipients.IsDeliverable(""u8));
        Assert.False(recipients.IsDeliverable("al\u00efce"u8));
    }

    [Fact]
    public void AnUnknownNameResolvesToNothingWithAReason()
    {
        RecipientResolution result = Recipients(systemUsers: false).Resolve("bob");

        Assert.True(result.IsEmpty);
        Assert.Equal("no such user 'bob'", result.Reason);
    }

    [Fact]
    public void AnAliasResolvesToLowercaseMailboxesAndRemoteAddresses()
    {
        RecipientResolution result = Recipients(systemUsers: true).Resolve("Staff");

        Assert.Equal(["alice", "root"], result.Mailboxes);
        Assert.Equal(["bob@example.org"], result.RemoteAddresses);
        Assert.All(result.Mailboxes, name => Assert.True(UserName.IsValid(name) && !name.Any(char.IsAsciiLetterUpper)));
    }

    [Fact]
    public void AnAliasToUnknownUsersIsAcceptedButResolvesToNothing()
    {
        LocalRecipients recipients = Recipients(systemUsers: false);

        Assert.True(recipients.IsDeliverable("ghosts"u8));
        RecipientResolution result = recipients.Resolve("ghosts");
        Assert.True(result.IsEmpty);
        Assert.Equal("no such user 'casper' (from alias 'ghosts')", result.Reason);
    }

    [Fact]
    public void AResolutionIsRememberedUntilAFileIsReadAgain()
    {
        LocalRecipients recipients = Recipients(systemUsers: false);
        RecipientResolution first = recipients.Resolve("staff@example.test".AsSpan(0, 5));
        Assert.Same(first, recipients.Resolve("staff"));
        Assert.Equal(["alice"], first.Mailboxes);

        _users.Add("bob", null); // rewrites the users file and reads it again
        RecipientResolution afterUsers = recipients.Resolve("staff");
        Assert.NotSame(first, afterUsers);
        Assert.Equal(["alice"], afterUsers.Mailboxes); // bob in staff is bob@example.org, a remote address

        _directory.Write("aliases", "staff: alice, bob\n");
        _aliases.Refresh();
        Assert.Equal(["alice", "bob"], recipients.Resolve("staff").Mailboxes);
    }

    [Fact]
    public void SystemAccountsCountOnlyWhenEnabled()
    {
        LocalRecipients without = Recipients(systemUsers: false);
        LocalRecipients with = Recipients(systemUsers: true);

        Assert.False(without.IsDeliverable("root"u8));
        Assert.True(without.Resolve("root").IsEmpty);
        Assert.Equal(["alice"], without.Resolve("staff").Mailboxes);

        Assert.True(with.IsDeliverable("ROOT"u8));
        Assert.Equal(["root"], with.Resolve("Root").Mailboxes);
    }

    [Theory]
    [InlineData("Admin")]
    [InlineData("admin")]
    [InlineData("_apt")]
    [InlineData("../alice")]
    [InlineData("alice/../../etc")]
    public void NamesThatAreNotSafeMailboxNamesAreRefused(string name)
    {
        LocalRecipients recipients = Recipients(systemUsers: true);

        Assert.False(recipients.IsDeliverable(System.Text.Encoding.UTF8.GetBytes(name)));
        Assert.True(recipients.Resolve(name).IsEmpty);
    }

    [Fact]
    public void EnablingSystemUsersWithoutAccountsIsAnError()
    {
        Assert.Throws<ArgumentException>(() => new LocalRecipients(_users, _aliases, null, systemUsers: true));
    }

    [Fact]
    public void IsDeliverableAllocatesNothing()
    {
        LocalRecipients recipients = Recipients(systemUsers: true);
        bool found = true;
        for (int i = 0; i < 1000; i++)
            found &= recipients.IsDeliverable("Alice"u8) & recipients.IsDeliverable("staff"u8) & !recipients.IsDeliverable("bob"u8);
        _users.Refresh();
        _aliases.Refresh();
        _accounts.Refresh();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            found &= recipients.IsDeliverable("Alice"u8) & recipients.IsDeliverable("staff"u8)
                & recipients.IsDeliverable("root"u8) & recipients.IsDeliverable("POSTMASTER"u8)
                & !recipients.IsDeliverable("bob"u8) & !recipients.IsDeliverable("n\u00f6"u8);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(found);
        Assert.Equal(0, allocated);
    }
}
