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
            "_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n" +
            "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
            "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n" +
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" +
            "carol:x:1000:1000::/home/carol:/usr/sbin/nologin\n" +
            "dave:x:60000:60000::/home/dave:/bin/sh\n" +
            "erin:x:60001:60001::/home/erin:/bin/sh\n");
        _users = new UserStore(_directory.Path);
        _users.Add("alice", null);
        _aliases = new AliasTable(_directory.Path);
        _accounts = new SystemAccounts(_directory.File("passwd"));
    }

    public void Dispose() => _directory.Dispose();

    private LocalRecipients Recipients(bool systemUsers) => new(_users, _aliases, _accounts, systemUsers);

    /// <summary>Recipients after <paramref name="entries"/> were added to the aliases file.</summary>
    private LocalRecipients RecipientsWithAliases(string entries, bool systemUsers)
    {
        File.AppendAllText(_directory.File("aliases"), entries);
        _aliases.Refresh();
        return Recipients(systemUsers);
    }

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
    public void AnAliasToUnknownUsersIsRefusedAndResolvesToNothing()
    {
        LocalRecipients recipients = Recipients(systemUsers: false);

        Assert.Equal(LocalPartCheck.AliasToNobody, recipients.Check("ghosts"u8));
        Assert.False(recipients.IsDeliverable("ghosts"u8));
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
        found &= recipients.IsDeliverable("staff"u8); // resolves the alias again, once, for the new snapshots

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

    [Theory]
    [InlineData("root", true)]
    [InlineData("carol", true)]   // 1000, the lowest, with a shell that does not log in: the shell does not matter
    [InlineData("dave", true)]    // 60000, the highest
    [InlineData("erin", false)]   // 60001
    [InlineData("daemon", false)]
    [InlineData("www-data", false)]
    [InlineData("nobody", false)]
    public void OnlyRootAndAccountsInTheUidRangeReceiveMailUnderTheirName(string name, bool deliverable)
    {
        LocalRecipients recipients = Recipients(systemUsers: true);

        Assert.Equal(deliverable ? LocalPartCheck.Deliverable : LocalPartCheck.Unknown, recipients.Check(System.Text.Encoding.UTF8.GetBytes(name)));
        Assert.Equal(deliverable, recipients.Resolve(name).Mailboxes.Count == 1);
    }

    [Fact]
    public void TheUidRangeIsConfigurable()
    {
        var accounts = new SystemAccounts(_directory.File("passwd"), minUserId: 30, maxUserId: 999);
        var recipients = new LocalRecipients(_users, _aliases, accounts, systemUsers: true);

        Assert.True(recipients.IsDeliverable("www-data"u8));
        Assert.True(recipients.IsDeliverable("root"u8));
        Assert.False(recipients.IsDeliverable("carol"u8));
        Assert.False(recipients.IsDeliverable("daemon"u8));
    }

    [Fact]
    public void AnAliasMayNameAnAccountOutsideTheRangeEitherAsItsNameOrAsItsTarget()
    {
        LocalRecipients recipients = RecipientsWithAliases("nobody: root\nwww: www-data\n", systemUsers: true);

        Assert.True(recipients.IsDeliverable("nobody"u8));
        Assert.Equal(["root"], recipients.Resolve("nobody").Mailboxes);
        Assert.True(recipients.IsDeliverable("www"u8));
        Assert.Equal(["www-data"], recipients.Resolve("www").Mailboxes);
        Assert.False(recipients.IsDeliverable("www-data"u8));
    }

    [Fact]
    public void TheHostsAliasesComeAfterTheUsersAndTheDataDirectorysAliases()
    {
        _directory.Write("etc-aliases", "postmaster: root\nalice: carol\nstaff: carol\nabuse: postmaster\n");
        AliasTable host = AliasTable.FromFile(_directory.File("etc-aliases"));
        var recipients = new LocalRecipients(_users, _aliases, _accounts, systemUsers: true, host);

        Assert.Equal(["root"], recipients.Resolve("postmaster").Mailboxes);
        Assert.Equal(["root"], recipients.Resolve("abuse").Mailboxes);
        Assert.Equal(["alice"], recipients.Resolve("alice").Mailboxes);             // a user comes first
        Assert.Equal(["alice", "root"], recipients.Resolve("staff").Mailboxes);     // so does the data directory's alias
        Assert.True(recipients.IsDeliverable("abuse"u8));
    }

    [Fact]
    public void TheHostsAliasesCountOnlyWithSystemUsers()
    {
        _directory.Write("etc-aliases", "abuse: alice\n");
        var recipients = new LocalRecipients(_users, _aliases, _accounts, systemUsers: false, AliasTable.FromFile(_directory.File("etc-aliases")));

        Assert.False(recipients.IsDeliverable("abuse"u8));
    }

    [Fact]
    public void AnAliasLoopIsRefusedAndSoIsAnAliasToRemoteAddressesOnlyWithoutARelay()
    {
        LocalRecipients recipients = RecipientsWithAliases("ping: pong\npong: ping\nfar: someone@example.org\nmixed: ping, alice\n", systemUsers: false);

        Assert.Equal(LocalPartCheck.AliasLoop, recipients.Check("ping"u8));
        Assert.Equal(LocalPartCheck.AliasOnlyRemote, recipients.Check("far"u8));
        Assert.Equal(LocalPartCheck.Deliverable, recipients.Check("mixed"u8));
        var relayed = new LocalRecipients(_users, _aliases, null, systemUsers: false, remoteDeliverable: true);
        Assert.Equal(LocalPartCheck.Deliverable, relayed.Check("far"u8));
    }

    [Fact]
    public void AUserAddedByAnotherProcessAMomentAgoIsDeliverableAtOnce()
    {
        LocalRecipients recipients = Recipients(systemUsers: false);
        Assert.False(recipients.IsDeliverable("frank"u8));

        new UserStore(_directory.Path).Add("frank", null); // as `fastspool user add` does, from its own process

        Assert.True(recipients.IsDeliverable("frank"u8));
    }

    [Fact]
    public void OnlyTheMailboxesOfLoginAccountsBelongToAnAccount()
    {
        LocalRecipients recipients = Recipients(systemUsers: true);

        Assert.True(recipients.TryGetAccountUserId("carol", out int uid));
        Assert.Equal(1000, uid);
        Assert.True(recipients.TryGetAccountUserId("www-data", out uid));
        Assert.Equal(33, uid);
        Assert.False(recipients.TryGetAccountUserId("alice", out _));
        Assert.False(recipients.TryGetAccountUserId("postmaster", out _));
        Assert.False(Recipients(systemUsers: false).TryGetAccountUserId("carol", out _));
    }
}
