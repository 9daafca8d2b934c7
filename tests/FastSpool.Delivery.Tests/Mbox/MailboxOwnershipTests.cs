using System.Buffers;
using System.Text;
using FastSpool.Delivery.Mbox;
using FastSpool.Delivery.Tests.Support;
using FastSpool.Posix;

namespace FastSpool.Delivery.Tests.Mbox;

/// <summary>Mailboxes of login accounts: given to the account when created, appended to when they are the account's,
/// and never written through a name that an attacker swapped between the check and the open.</summary>
public sealed class MailboxOwnershipTests : IDisposable
{
    private const uint AccountUid = 23456;
    private const uint MailGroup = 4321;
    private static readonly TimeSpan ShortWait = TimeSpan.FromMilliseconds(300);
    private static readonly UnixFileMode Mode0660 =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    private readonly TempDirectory _directory = new();

    public MailboxOwnershipTests()
    {
        // Like /var/mail: root's directory in the mail group.
        if (Environment.IsPrivilegedProcess)
            Tool.RunOrFail("chgrp", MailGroup.ToString(), _directory.Path);
    }

    public void Dispose()
    {
        MailboxFile.BeforeOpen = null;
        _directory.Dispose();
    }

    [RootFact]
    public void ANewMailboxOfAnAccountIsGivenToItWithTheMailDirectorysGroupAndTheMode()
    {
        string path = _directory.Combine("carol");

        MailboxOpenResult result = MailboxFile.TryOpen(path, MailboxOwner.Account(AccountUid), Mode0660, ShortWait, out MailboxFile? mailbox, out string? error);

        using (mailbox)
        {
            Assert.Equal(MailboxOpenResult.Opened, result);
            Assert.Null(error);
            mailbox!.Append(new ReadOnlySequence<byte>("From a  Tue Nov 24 17:19:20 2026\n\nhi\n\n"u8.ToArray()));
        }
        Assert.Equal(0, Libc.LStat(path, out UnixFileStatus status));
        Assert.Equal(AccountUid, status.OwnerId);
        Assert.Equal(MailGroup, status.GroupId);
        Assert.Equal(Mode0660, status.Mode);
        Assert.Equal(38, status.Size);
    }

    [RootFact]
    public void ANewMailboxGetsItsModeWhateverTheUmask()
    {
        string path = _directory.Combine("carol");
        UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead;

        MailboxOpenResult result = MailboxFile.TryOpen(path, MailboxOwner.Account(AccountUid), mode, ShortWait, out MailboxFile? mailbox, out _);
        mailbox?.Dispose();

        Assert.Equal(MailboxOpenResult.Opened, result);
        Assert.Equal(mode, File.GetUnixFileMode(path)); // 0664 survives a umask of 022 or 027
    }

    [RootFact]
    public void AnExistingMailboxOfTheAccountIsAppendedTo()
    {
        string path = _directory.Combine("carol");
        File.WriteAllText(path, "From old  Tue Nov 24 17:19:20 2026\n\nold\n\n");
        Tool.RunOrFail("chown", $"{AccountUid}:{MailGroup}", path);
        File.SetUnixFileMode(path, Mode0660);

        MailboxOpenResult result = MailboxFile.TryOpen(path, MailboxOwner.Account(AccountUid), MailboxFile.DefaultMode, ShortWait, out MailboxFile? mailbox, out string? error);

        using (mailbox)
        {
            Assert.Equal(MailboxOpenResult.Opened, result);
            Assert.Null(error);
            mailbox!.Append(new ReadOnlySequence<byte>("From new  Tue Nov 24 17:19:21 2026\n\nnew\n\n"u8.ToArray()));
        }
        Assert.Equal("From old  Tue Nov 24 17:19:20 2026\n\nold\n\nFrom new  Tue Nov 24 17:19:21 2026\n\nnew\n\n", File.ReadAllText(path));
        Assert.Equal(0, Libc.LStat(path, out UnixFileStatus status));
        Assert.Equal((AccountUid, MailGroup, Mode0660), (status.OwnerId, status.GroupId, status.Mode)); // left as it was
    }

    [RootFact]
    public void AnAccountsMailboxOwnedBySomeoneElseIsRefused()
    {
        string path = _directory.Combine("carol");
        File.WriteAllText(path, "");
        Tool.RunOrFail("chown", "777", path);

        MailboxOpenResult result = MailboxFile.TryOpen(path, MailboxOwner.Account(AccountUid), MailboxFile.DefaultMode, ShortWait, out MailboxFile? mailbox, out string? error);

        Assert.Equal(MailboxOpenResult.Failed, result); // deferred until the administrator gives it back
        Assert.Null(mailbox);
        Assert.Equal($"{path} is owned by uid 777, not by uid {AccountUid} whose mailbox it is", error);
    }

    /// <summary>Opens the account's mailbox while the account, once the server has looked at the name, swaps it
    /// for something that leads to root's file; returns what the open answered. Root's file must be untouched.</summary>
    private (MailboxOpenResult Result, string? Error) OpenWhileTheNameIsSwapped(string path, Action<string> swap)
    {
        string victim = _directory.Combine("shadow");
        File.WriteAllText(victim, "root's secret\n");
        File.WriteAllText(path, "");
        Tool.RunOrFail("chown", $"{AccountUid}", path);
        int swaps = 0;
        MailboxFile.BeforeOpen = opening =>
        {
            if (opening == path && swaps++ == 0)
            {
                File.Delete(path);
                swap(victim);
            }
        };

        MailboxOpenResult result = MailboxFile.TryOpen(path, MailboxOwner.Account(AccountUid), MailboxFile.DefaultMode, ShortWait, out MailboxFile? mailbox, out string? error);
        mailbox?.Dispose();

        Assert.Equal(1, swaps);
        Assert.Equal("root's secret\n", File.ReadAllText(victim));
        Assert.Equal(0, Libc.LStat(victim, out UnixFileStatus status));
        Assert.Equal(0u, status.OwnerId);
        return (result, error);
    }

    [RootFact]
    public void ASymbolicLinkSwappedInAfterTheCheckIsNotFollowed()
    {
        string path = _directory.Combine("carol");

        (MailboxOpenResult result, string? error) = OpenWhileTheNameIsSwapped(path, victim => File.CreateSymbolicLink(path, victim));

        Assert.Equal(MailboxOpenResult.Refused, result);
        Assert.Equal($"{path} is a symbolic link", error);
    }

    [RootFact]
    public void AHardLinkSwappedInAfterTheCheckIsRefusedOnTheOpenedDescriptor()
    {
        string path = _directory.Combine("carol");

        (MailboxOpenResult result, string? error) = OpenWhileTheNameIsSwapped(path, victim => Tool.RunOrFail("ln", victim, path));

        Assert.Equal(MailboxOpenResult.Refused, result);
        Assert.Equal($"{path} has 2 hard links", error);
    }

    [RootFact]
    public void ASymbolicLinkPlantedWhereANewMailboxIsAboutToBeCreatedIsNotFollowed()
    {
        string path = _directory.Combine("carol");
        string victim = _directory.Combine("created-through-the-link");
        MailboxFile.BeforeOpen = opening =>
        {
            if (opening == path && !File.Exists(path) && new FileInfo(path).LinkTarget is null)
                File.CreateSymbolicLink(path, victim);
        };

        MailboxOpenResult result = MailboxFile.TryOpen(path, MailboxOwner.Account(AccountUid), MailboxFile.DefaultMode, ShortWait, out MailboxFile? mailbox, out string? error);
        mailbox?.Dispose();

        Assert.Equal(MailboxOpenResult.Refused, result);
        Assert.Equal($"{path} is a symbolic link", error);
        Assert.False(File.Exists(victim));
    }

    [Fact]
    public void TheServersOwnMailboxesAreNotGivenAway()
    {
        string path = _directory.Combine("alice");

        MailboxOpenResult result = MailboxFile.TryOpen(path, MailboxOwner.Server, Mode0660, ShortWait, out MailboxFile? mailbox, out _);
        mailbox?.Dispose();

        Assert.Equal(MailboxOpenResult.Opened, result);
        Assert.Equal(0, Libc.LStat(path, out UnixFileStatus status));
        Assert.Equal(Libc.GetEffectiveUserId(), status.OwnerId);
        Assert.Equal(Mode0660, status.Mode);
    }
}
