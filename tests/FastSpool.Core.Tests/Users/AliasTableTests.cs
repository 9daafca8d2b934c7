using FastSpool.Users;

namespace FastSpool.Core.Tests.Users;

public sealed class AliasTableTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private AliasTable Aliases(string text)
    {
        _directory.Write("aliases", text);
        return new AliasTable(_directory.Path);
    }

    [Fact]
    public void AMissingFileMeansNoAliases()
    {
        var aliases = new AliasTable(_directory.Path);

        Assert.Empty(aliases.Names);
        Assert.Empty(aliases.Warnings);
        Assert.False(aliases.Contains("postmaster"u8));
    }

    [Fact]
    public void AnEntryMayHaveSeveralTargets()
    {
        var aliases = Aliases("staff: alice, bob,carol ,  dave\n");

        Assert.Equal(["alice", "bob", "carol", "dave"], aliases.Expand("staff").Mailboxes);
    }

    [Fact]
    public void LinesStartingWithWhiteSpaceContinueTheEntry()
    {
        var aliases = Aliases("staff: alice,\n  bob,\n\tcarol\nother: dave\n");

        Assert.Equal(["alice", "bob", "carol"], aliases.Expand("staff").Mailboxes);
        Assert.Equal(["dave"], aliases.Expand("other").Mailboxes);
    }

    [Fact]
    public void CommentsAndBlankLinesAreSkippedEvenWithinAnEntry()
    {
        var aliases = Aliases("# team\n\nstaff: alice,\n# not a target\n    # nor this\n\n  bob\n   \n#end\n");

        Assert.Equal(["staff"], aliases.Names);
        Assert.Equal(["alice", "bob"], aliases.Expand("staff").Mailboxes);
        Assert.Empty(aliases.Warnings);
    }

    [Fact]
    public void QuotedTargetsAreUnquoted()
    {
        var aliases = Aliases("staff: \"alice\", \"carol@example.org\", \"\\bob\", \"john smith\"@example.net\n");

        RecipientResolution result = aliases.Expand("staff");

        Assert.Equal(["alice", "bob"], result.Mailboxes);
        Assert.Equal(["carol@example.org", "\"john smith\"@example.net"], result.RemoteAddresses);
    }

    [Fact]
    public void AQuotedNameMayContainACommaOrColon()
    {
        var aliases = Aliases("\"staff\": \"|/usr/bin/filter, --strict\", \"x:y\"@example.org, bob\n");

        RecipientResolution result = aliases.Expand("staff");

        Assert.Equal(["bob"], result.Mailboxes);
        Assert.Equal(["\"x:y\"@example.org"], result.RemoteAddresses);
        Assert.Single(aliases.Warnings);
        Assert.Contains("'\"|/usr/bin/filter, --strict\"'", aliases.Warnings[0], StringComparison.Ordinal);
    }

    [Fact]
    public void NamesAndLocalTargetsAreCaseInsensitive()
    {
        var aliases = Aliases("Staff: Alice, BOB\n");

        Assert.True(aliases.Contains("STAFF"u8));
        Assert.True(aliases.Contains("staff".AsSpan()));
        Assert.Equal(["staff"], aliases.Names);
        Assert.Equal(["alice", "bob"], aliases.Expand("sTaFf").Mailboxes);
    }

    [Fact]
    public void RemoteAddressesAreKeptAsWritten()
    {
        var aliases = Aliases("out: Carol@Example.ORG, dave@[192.0.2.1]\n");

        RecipientResolution result = aliases.Expand("out");

        Assert.Empty(result.Mailboxes);
        Assert.Equal(["Carol@Example.ORG", "dave@[192.0.2.1]"], result.RemoteAddresses);
    }

    [Fact]
    public void AliasesExpandRecursively()
    {
        var aliases = Aliases("all: staff, board\nstaff: alice, devs\ndevs: bob, carol@example.org\nboard: dave\n");

        RecipientResolution result = aliases.Expand("all");

        Assert.Equal(["alice", "bob", "dave"], result.Mailboxes);
        Assert.Equal(["carol@example.org"], result.RemoteAddresses);
        Assert.Empty(result.Problems);
    }

    [Fact]
    public void AnAliasNamingItselfDeliversToThatMailbox()
    {
        var aliases = Aliases("root: root, admin\nadmin: alice\n");

        Assert.Equal(["root", "alice"], aliases.Expand("root").Mailboxes);
    }

    [Fact]
    public void ABackslashNameIsDeliveredWithoutFurtherExpansion()
    {
        var aliases = Aliases("bob: \\bob, carol\ncarol: \\Carol\nteam: bob\n");

        Assert.Equal(["bob", "carol"], aliases.Expand("team").Mailboxes);
    }

    [Fact]
    public void ALoopIsReportedAndDeliversNothing()
    {
        var aliases = Aliases("a: b\nb: c\nc: a\n");

        RecipientResolution result = aliases.Expand("a");

        Assert.True(result.IsEmpty);
        Assert.Equal(["alias loop: a -> b -> c -> a"], result.Problems);
        Assert.Equal("alias loop: a -> b -> c -> a", result.Reason);
    }

    [Fact]
    public void ALoopDoesNotStopTheOtherTargets()
    {
        var aliases = Aliases("a: b, alice\nb: a, bob\n");

        RecipientResolution result = aliases.Expand("a");

        Assert.Equal(["bob", "alice"], result.Mailboxes);
        Assert.Single(result.Problems);
        Assert.Null(result.Reason);
    }

    [Fact]
    public void ExpansionStopsAtTheDepthLimit()
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < AliasTable.MaxDepth; i++)
            text.Append($"a{i}: a{i + 1}\n");
        text.Append($"a{AliasTable.MaxDepth}: bob\n");
        var aliases = Aliases(text.ToString());

        // a1 .. a20 are twenty aliases deep: fine. a0 .. a20 are twenty-one: too deep.
        Assert.Equal(["bob"], aliases.Expand("a1").Mailboxes);
        RecipientResolution tooDeep = aliases.Expand("a0");
        Assert.True(tooDeep.IsEmpty);
        Assert.Contains("nested more than 20", tooDeep.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateRecipientsAppearOnce()
    {
        var aliases = Aliases("all: x, y, Bob, CAROL@example.org\nx: bob, carol@example.org\ny: x, BOB\n");

        RecipientResolution result = aliases.Expand("all");

        Assert.Equal(["bob"], result.Mailboxes);
        Assert.Equal(["carol@example.org"], result.RemoteAddresses);
        Assert.Empty(result.Problems);
    }

    [Fact]
    public void UnsupportedTargetsAreSkippedAndReportedWithLineNumbers()
    {
        string marker = _directory.File("ran");
        var aliases = Aliases(
            "# line 1\n" +
            $"run: |/usr/bin/touch {marker}, alice\n" +
            "save: bob,\n" +
            "  /var/mail/archive\n" +
            "list: :include:/etc/mail/list, carol\n");

        Assert.Equal(["alice"], aliases.Expand("run").Mailboxes);
        Assert.Equal(["bob"], aliases.Expand("save").Mailboxes);
        Assert.Equal(["carol"], aliases.Expand("list").Mailboxes);
        Assert.Equal(
            [
                $"{aliases.FilePath} line 2: alias 'run': command target '|/usr/bin/touch {marker}' is not supported; skipped",
                $"{aliases.FilePath} line 4: alias 'save': file target '/var/mail/archive' is not supported; skipped",
                $"{aliases.FilePath} line 5: alias 'list': include target ':include:/etc/mail/list' is not supported; skipped",
            ],
            aliases.Warnings);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void AnAliasWithOnlyUnsupportedTargetsIsIgnored()
    {
        var aliases = Aliases("decode: \"|/usr/bin/uudecode\"\n");

        Assert.False(aliases.Contains("decode"u8));
        Assert.Equal(2, aliases.Warnings.Count);
        Assert.Equal($"{aliases.FilePath} line 1: alias 'decode' has no supported targets; entry ignored", aliases.Warnings[1]);
    }

    [Fact]
    public void InvalidEntriesAndTargetsAreReported()
    {
        var aliases = Aliases(
            "  orphan\n" +
            "no colon here\n" +
            "../x: alice\n" +
            "ok: alice, bad name, @nowhere, x@, ../etc\n" +
            "OK: bob\n");

        Assert.Equal(["ok"], aliases.Names);
        Assert.Equal(["alice"], aliases.Expand("ok").Mailboxes);
        Assert.Equal(
            [
                $"{aliases.FilePath} line 1: continuation line without an alias; ignored",
                $"{aliases.FilePath} line 2: no ':' after the alias name; entry ignored",
                $"{aliases.FilePath} line 3: invalid alias name '../x'; entry ignored",
                $"{aliases.FilePath} line 4: alias 'ok': invalid target 'bad name'; skipped",
                $"{aliases.FilePath} line 4: alias 'ok': invalid target '@nowhere'; skipped",
                $"{aliases.FilePath} line 4: alias 'ok': invalid target 'x@'; skipped",
                $"{aliases.FilePath} line 4: alias 'ok': invalid target '../etc'; skipped",
                $"{aliases.FilePath} line 5: duplicate alias 'ok'; the first entry counts",
            ],
            aliases.Warnings);
    }

    [Fact]
    public void ANameThatIsNoAliasStandsForItsOwnMailbox()
    {
        var aliases = Aliases("staff: alice\n");

        Assert.Equal(["bob"], aliases.Expand("Bob").Mailboxes);
    }

    [Fact]
    public void AnInvalidLocalPartExpandsToNothingWithAReason()
    {
        var aliases = Aliases("staff: alice\n");

        RecipientResolution result = aliases.Expand("../etc");

        Assert.True(result.IsEmpty);
        Assert.Equal("'../etc' is not a valid mailbox name", result.Reason);
    }

    [Fact]
    public void LocalNamesWithoutAMailboxAreDroppedAndReported()
    {
        var aliases = Aliases("staff: alice, ghost\nempty: ghost\n");

        RecipientResolution staff = aliases.Expand("staff", name => name == "alice");
        RecipientResolution empty = aliases.Expand("empty", name => name == "alice");
        RecipientResolution unknown = aliases.Expand("nobody", name => name == "alice");

        Assert.Equal(["alice"], staff.Mailboxes);
        Assert.Equal(["no such user 'ghost' (from alias 'staff')"], staff.Problems);
        Assert.True(empty.IsEmpty);
        Assert.Equal("no such user 'ghost' (from alias 'empty')", empty.Reason);
        Assert.Equal("no such user 'nobody'", unknown.Reason);
    }

    [Fact]
    public void ContainsAllocatesNothing()
    {
        var aliases = Aliases("staff: alice\n");
        bool found = true;
        for (int i = 0; i < 1000; i++)
            found &= aliases.Contains("STAFF"u8) & !aliases.Contains("alice"u8);
        aliases.Refresh();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            found &= aliases.Contains("STAFF"u8) & !aliases.Contains("alice"u8);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(found);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void TheTableReloadsWhenTheFileChanges()
    {
        _directory.Write("aliases", "staff: alice\n");
        var aliases = new AliasTable(_directory.Path, TimeSpan.Zero);
        Assert.True(aliases.Contains("staff"u8));

        _directory.Write("aliases", "team: alice, bob\n");

        Assert.False(aliases.Contains("staff"u8));
        Assert.Equal(["alice", "bob"], aliases.Expand("team").Mailboxes);

        File.Delete(_directory.File("aliases"));
        Assert.False(aliases.Contains("team"u8));
    }
}
