using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests;

/// <summary>Aliases at RCPT: one that leads nowhere deliverable is refused there (never a 250 and a silent drop),
/// problems in an aliases file are logged with file and line at start and at every reload, and a user added with
/// <c>fastspool user add</c> is deliverable at once.</summary>
public sealed class AliasRecipientTests : IAsyncLifetime
{
    private const string Aliases =
        "ping: pong\n" +
        "pong: ping\n" +
        "far: someone@example.org, other@example.net\n" +
        "ghosts: casper\n" +
        "team: alice, ping\n" +
        "run: |/usr/bin/touch /tmp/never, alice\n";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "fastspool-it-" + Guid.NewGuid().ToString("N"));
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_data);
        File.WriteAllText(Path.Combine(_data, "aliases"), Aliases);
        _server = await TestServer.StartAsync(dataDirectory: _data);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string AliasesPath => Path.Combine(_data, "aliases");

    private async Task<RawSmtp> MailAsync()
    {
        RawSmtp raw = await SmtpDialog.OpenAsync(_server);
        await raw.SendAsync("MAIL FROM:<bob@example.org>\r\n");
        await SmtpDialog.ExpectLineAsync(raw, "250 2.1.0 Ok");
        return raw;
    }

    [Fact]
    public async Task AnAliasThatLeadsToNothingDeliverableIsRefusedAtRcptWithTheReason()
    {
        using RawSmtp raw = await MailAsync();

        await raw.SendAsync("RCPT TO:<ping@localhost>\r\n");
        await SmtpDialog.ExpectLineAsync(raw, "550 5.4.6 <ping@localhost>: Recipient address rejected: alias loop");
        await raw.SendAsync("RCPT TO:<far@localhost>\r\n");
        await SmtpDialog.ExpectLineAsync(raw, "550 5.4.4 <far@localhost>: Recipient address rejected: alias forwards only to remote addresses and no relay is configured");
        await raw.SendAsync("RCPT TO:<ghosts@localhost>\r\n");
        await SmtpDialog.ExpectLineAsync(raw, "550 5.1.1 <ghosts@localhost>: Recipient address rejected: alias leads to no mailbox");
        await raw.SendAsync("DATA\r\n");
        await SmtpDialog.ExpectLineAsync(raw, "554 5.5.1 Error: no valid recipients");
        // An alias with a loop in one branch still delivers through the others.
        await raw.SendAsync("RCPT TO:<team@localhost>\r\n");
        await SmtpDialog.ExpectLineAsync(raw, "250 2.1.5 Ok");
    }

    [Fact]
    public async Task ProblemsInTheAliasesFileAreLoggedWithFileAndLineAtStartAndAtEveryReload()
    {
        string refused = $"aliases: {AliasesPath} line 6: alias 'run': command target '|/usr/bin/touch /tmp/never' is not supported; skipped";
        Assert.Contains(refused, _server.Log.Lines);

        File.WriteAllText(AliasesPath, Aliases + "save: /var/mail/archive, alice\nlist: :include:/etc/list\nteam: bob\nbroken line\n");

        string[] expected =
        [
            $"aliases: {AliasesPath} line 6: alias 'run': command target '|/usr/bin/touch /tmp/never' is not supported; skipped",
            $"aliases: {AliasesPath} line 7: alias 'save': file target '/var/mail/archive' is not supported; skipped",
            $"aliases: {AliasesPath} line 8: alias 'list': include target ':include:/etc/list' is not supported; skipped",
            $"aliases: {AliasesPath} line 8: alias 'list' has no supported targets; entry ignored",
            $"aliases: {AliasesPath} line 9: duplicate alias 'team'; the first entry counts",
            $"aliases: {AliasesPath} line 10: no ':' after the alias name; entry ignored",
        ];
        // No mail comes: the server looks at the file by itself.
        await Wait.UntilAsync(() => expected.All(_server.Log.Lines.Contains), because: "the reload's problems in the log",
            observed: () => string.Join("\n", _server.Log.Lines));
        Assert.Equal(2, _server.Log.Lines.Count(l => l == refused)); // once at start, once at the reload
    }

    [Fact]
    public async Task AUserAddedWithTheCommandIsDeliverableAtOnce()
    {
        using RawSmtp raw = await MailAsync();
        await raw.SendAsync("RCPT TO:<frank@localhost>\r\n");
        await SmtpDialog.ExpectLineAsync(raw, "550 5.1.1 <frank@localhost>: Recipient address rejected: User unknown in local recipient table");

        CliResult added = CliRunner.Run("user", "add", "frank", "--data", _data);
        Assert.Equal(0, added.Code);

        await raw.SendAsync("RCPT TO:<frank@localhost>\r\n");
        await SmtpDialog.ExpectLineAsync(raw, "250 2.1.5 Ok");
    }
}
