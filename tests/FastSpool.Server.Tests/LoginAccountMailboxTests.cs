using System.Globalization;
using FastSpool.Posix;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace FastSpool.Server.Tests;

/// <summary>With <c>Users:System</c>, mail for a real login account (made with useradd) lands in a mailbox of the
/// account's own, which the account reads as itself with Python's mailbox module and with mutt, as on a host with
/// Postfix's local(8).</summary>
public sealed class LoginAccountMailboxTests : IAsyncLifetime
{
    private const string ReadWithPython =
        "import mailbox, sys\n" +
        "box = mailbox.mbox(sys.argv[1], create=False)\n" +
        "messages = list(box)\n" +
        "print(len(messages))\n" +
        "for m in messages: print(m['Subject'])\n";

    private static readonly UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly UnixFileMode Mode0660 = Mode0600 | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    // The data directory is private to the server (0700); the mail directory, as /var/mail, is beside it.
    private readonly string _root = Path.Combine(Path.GetTempPath(), "fastspool-it-" + Guid.NewGuid().ToString("N"));

    private string DataDirectory => Path.Combine(_root, "data");
    private LoginAccount? _account;
    private TestServer? _server;

    private LoginAccount Account => _account!;

    private TestServer Server => _server!;

    private string MailDirectory => Path.Combine(_root, "mail");

    private string HostAliases => Path.Combine(_root, "host-aliases");

    public Task InitializeAsync()
    {
        if (!Environment.IsPrivilegedProcess)
            return Task.CompletedTask;
        _account = LoginAccount.Create();
        Directory.CreateDirectory(_root);
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101); // 0755 whatever this process's umask
        // Like Debian's /var/mail: root's, group mail, setgid, writable by the group.
        Directory.CreateDirectory(MailDirectory);
        Tool.RunOrFail("chgrp", "mail", MailDirectory);
        Tool.RunOrFail("chmod", "2775", MailDirectory);
        File.WriteAllText(HostAliases, $"# the host's aliases\npostmaster: {Account.Name}\nnobody: {Account.Name}\n");
        return Task.CompletedTask;
    }

    private async Task StartAsync()
    {
        _server = await TestServer.StartAsync(o =>
        {
            o.Users.System = true;
            o.Users.SystemAliasesFile = HostAliases;
            o.Delivery.MailDirectory = MailDirectory;
        }, DataDirectory);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
        _account?.Dispose();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    private async Task SendAsync(string to, string subject)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", Server.Port, SecureSocketOptions.None);
        await client.SendAsync(TestMessage.Create(subject, "a line\n", to));
        await client.DisconnectAsync(true);
    }

    private static UnixFileStatus Stat(string path)
    {
        Assert.Equal(0, Libc.LStat(path, out UnixFileStatus status));
        return status;
    }

    private string[] ReadAsAccountWithPython(string path)
    {
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        (int exitCode, string output) = Account.Run("/nonexistent", python, "-c", ReadWithPython, path);
        Assert.True(exitCode == 0, $"python3 as {Account.Name}: {output}");
        return output.TrimEnd('\n').Split('\n');
    }

    /// <summary>mutt, read-only and with no configuration, pipes the first message to a file of the account's.</summary>
    private string ReadFirstAsAccountWithMutt(string path)
    {
        string directory = Path.Combine(_root, "mutt");
        Directory.CreateDirectory(Path.Combine(directory, "Mail")); // or mutt asks whether to create its folder directory
        Tool.RunOrFail("chown", "-R", Account.UserId.ToString(CultureInfo.InvariantCulture), directory);
        string output = Path.Combine(directory, "first");
        string mutt = $"mutt -n -F /dev/null -R -f {path} -e 'set wait_key=no' -e 'push \"<pipe-message>cat > {output}<enter><quit>\"'";
        // mutt needs a terminal: script(1) gives it one.
        (int exitCode, string screen) = Account.Run(directory, "env", "TERM=xterm", "script", "-qec", mutt, "/dev/null");
        Assert.True(exitCode == 0 && File.Exists(output), $"mutt as {Account.Name} (exit {exitCode}): {screen}");
        return File.ReadAllText(output);
    }

    [RootFact]
    public async Task ALoginAccountGetsANewMailboxOfItsOwnAndReadsItAsItselfWithPythonAndMutt()
    {
        await StartAsync();
        string path = Server.MailboxPath(Account.Name);

        await SendAsync($"{Account.Name}@localhost", "for a login account");
        await Server.DeliveredAsync(Account.Name, 1);

        UnixFileStatus status = Stat(path);
        Assert.Equal((Account.UserId, Stat(MailDirectory).GroupId, Mode0600), (status.OwnerId, status.GroupId, status.Mode));
        Assert.Equal(["1", "for a login account"], ReadAsAccountWithPython(path));
        string first = ReadFirstAsAccountWithMutt(path);
        Assert.Contains("Subject: for a login account\n", first, StringComparison.Ordinal);
        Assert.Contains($"Delivered-To: {Account.Name}@localhost\n", first, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task AnExistingMailboxOwnedByTheAccountAndTheMailGroupWithMode0660IsAppendedTo()
    {
        string path = Path.Combine(MailDirectory, Account.Name);
        File.WriteAllText(path, "From someone@example.org  Tue Nov 24 17:19:20 2026\nSubject: already there\n\nold\n\n");
        Tool.RunOrFail("chown", $"{Account.Name}:mail", path);
        File.SetUnixFileMode(path, Mode0660);
        await StartAsync();

        await SendAsync($"{Account.Name}@localhost", "appended");
        await Server.DeliveredAsync(Account.Name, 2);

        UnixFileStatus status = Stat(path);
        Assert.Equal((Account.UserId, Stat(MailDirectory).GroupId, Mode0660), (status.OwnerId, status.GroupId, status.Mode));
        Assert.Equal(["2", "already there", "appended"], ReadAsAccountWithPython(path));
    }

    [RootFact]
    public async Task TheHostsAliasesAreReadSoPostmasterAndNobodyReachTheAccount()
    {
        await StartAsync();

        await SendAsync("postmaster@localhost", "to postmaster");
        await SendAsync("nobody@localhost", "to nobody");
        await Server.DeliveredAsync(Account.Name, 2);

        Assert.Equal(["2", "to postmaster", "to nobody"], ReadAsAccountWithPython(Server.MailboxPath(Account.Name)));
        Assert.False(File.Exists(Server.MailboxPath("postmaster")));
        Assert.False(File.Exists(Server.MailboxPath("nobody")));
    }

    [RootFact]
    public async Task DaemonAccountsAreRefusedAtRcptAndSoIsAnAccountAboveTheUidRange()
    {
        using LoginAccount high = LoginAccount.Create(uid: 60123);
        await StartAsync();
        using RawSmtp raw = await SmtpDialog.OpenAsync(Server);
        await raw.SendAsync("MAIL FROM:<bob@example.org>\r\n");
        await SmtpDialog.ExpectLineAsync(raw, "250 2.1.0 Ok");

        foreach (string name in (string[])["daemon", "www-data", high.Name])
        {
            await raw.SendAsync($"RCPT TO:<{name}@localhost>\r\n");
            await SmtpDialog.ExpectLineAsync(raw, $"550 5.1.1 <{name}@localhost>: Recipient address rejected: User unknown in local recipient table");
        }
        // nobody (65534) is an alias in the host's aliases; root and the account receive mail under their names.
        foreach (string name in (string[])["nobody", "root", Account.Name])
        {
            await raw.SendAsync($"RCPT TO:<{name}@localhost>\r\n");
            await SmtpDialog.ExpectLineAsync(raw, "250 2.1.5 Ok");
        }
    }

    [RootFact]
    public async Task WithoutCapChownANewMailboxOfALoginAccountIsDeferredWithTheReasonAndNothingIsCreated()
    {
        int port = TestServer.FreePort();
        // Root, but without the right to give files away (the bounding set limits what exec grants).
        using ServerProcess server = await ServerProcess.StartAsync(["setpriv", "--bounding-set=-chown", "--inh-caps=-chown"], DataDirectory, port,
            "--Users:System=true", $"--Users:SystemAliasesFile={HostAliases}", $"--Delivery:MailDirectory={MailDirectory}", "--Delivery:RetryDelay=00:00:30", "--Delivery:MaxRetryDelay=00:01:00");
        string path = Path.Combine(MailDirectory, Account.Name);

        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
            await client.SendAsync(TestMessage.Create("needs chown", "x\n", $"{Account.Name}@localhost"));
            await client.DisconnectAsync(true);
        }

        string reason = $"cannot give the new mailbox {path} to uid {Account.UserId}: the server (uid 0) lacks CAP_CHOWN; run it as root or grant it CAP_CHOWN";
        await Wait.UntilAsync(() => server.Output.Contains($"status=deferred ({reason})", StringComparison.Ordinal), because: "the deferral with its reason",
            observed: () => server.Output);
        Assert.Contains("Users:System: the server (uid 0) lacks CAP_CHOWN", server.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(path), "no mailbox may be left owned by root");
        await server.StopAsync();
    }
}
