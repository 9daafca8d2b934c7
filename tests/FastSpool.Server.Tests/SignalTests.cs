using System.Net;
using System.Text.RegularExpressions;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace FastSpool.Server.Tests;

/// <summary>The real <c>fastspool serve</c> and its signals: SIGTERM, SIGINT and SIGQUIT are logged clean stops, SIGHUP
/// rereads what can change without a restart and logs each change.</summary>
public sealed class SignalTests : IDisposable
{
    /// <summary>A mail log line: <c>2026-11-24T17:19:20.902Z smtpd info: message</c>.</summary>
    internal static readonly Regex LogLine = new(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z]+ (trace|debug|info|warning|error|fatal): \S");

    private readonly string _data = Path.Combine(Path.GetTempPath(), "fastspool-signal-" + Guid.NewGuid().ToString("N")[..12]);

    public SignalTests()
    {
        Directory.CreateDirectory(_data);
        new FastSpool.Users.UserStore(_data).Add("alice", null);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    [InlineData("QUIT")]
    public async Task EachStopSignalIsALoggedCleanStopAndEveryLineIsALogLine(string signal)
    {
        int port = TestServer.FreePort();
        using ServerProcess server = await ServerProcess.StartAsync(_data, port);
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
            await client.SendAsync(TestMessage.Create("one", "hello\n", "alice@localhost"));
            await client.DisconnectAsync(true);
        }
        await Mailbox.WaitForAsync(Path.Combine(_data, "mail", "alice"), 1);
        server.Signal(signal);
        Assert.Equal(0, await server.WaitForExitAsync());
        string[] lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line => Assert.Matches(LogLine, line));
        Assert.Contains(lines, l => l.EndsWith($" fastspool info: stopping on SIG{signal}", StringComparison.Ordinal));
        Assert.EndsWith(" fastspool info: stopped", lines[^1]);
    }

    [Fact]
    public async Task SighupRereadsLimitsDomainsLogLevelAndAliasesAndLogsWhatChanged()
    {
        string config = Path.Combine(_data, "fastspool.json");
        File.WriteAllText(config, """{ "LocalDomains": [ "localhost" ], "Smtp": { "MaxRecipients": 1000 } }""");
        int port = TestServer.FreePort();
        using ServerProcess server = await ServerProcess.StartAsync(_data, port, "--config", config);

        File.WriteAllText(config, """{ "LocalDomains": [ "localhost", "example.net" ], "LogLevel": "warning", "Smtp": { "MaxRecipients": 2, "Listen": [ "127.0.0.1:1" ] } }""");
        File.WriteAllText(Path.Combine(_data, "aliases"), "team: alice\n");
        server.Signal("HUP");
        await server.WaitForOutputAsync("reload: done");
        string output = server.Output;
        Assert.Contains("fastspool info: reload: LocalDomains: [localhost] -> [localhost, example.net]\n", output);
        Assert.Contains("fastspool info: reload: Smtp:MaxRecipients: 1000 -> 2\n", output);
        Assert.Contains("fastspool info: reload: LogLevel: Information -> Warning\n", output);
        Assert.Contains("fastspool info: reload: aliases added: team\n", output);
        Assert.Contains("fastspool info: reload: done, 4 changes\n", output);
        // The command line's --Smtp:Listen:0 wins over the file's, so Listen did not change.
        Assert.DoesNotContain("reload: Smtp:Listen", output);

        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
        await client.SendAsync(TestMessage.Create("to the new domain", "hello\n", "team@example.net"));
        await client.DisconnectAsync(true);
        await Mailbox.WaitForAsync(Path.Combine(_data, "mail", "alice"), 1);

        File.WriteAllText(config, """{ "Smtp": { "MaxRecipents": 2 } }""");
        server.Signal("HUP");
        await server.WaitForOutputAsync("reload: configuration error, the running configuration stays: Smtp:MaxRecipents: unknown key (did you mean Smtp:MaxRecipients?)");
        Assert.False(server.HasExited);
        await server.StopAsync();
    }

    [Fact]
    public async Task SighupAppliesANewRelayNetworksToTheNextTransaction()
    {
        string config = Path.Combine(_data, "fastspool.json");
        int smarthost = TestServer.FreePort(); // nothing listens: only the replies to RCPT matter here
        string Config(string networks) =>
            $$"""{ "Relay": { "Networks": [ {{networks}} ], "Smarthost": "[127.0.0.1]:{{smarthost}}", "Tls": "none" } }""";
        File.WriteAllText(config, Config("\"127.0.0.1/32\""));
        int port = TestServer.FreePort();
        using ServerProcess server = await ServerProcess.StartAsync(_data, port, "--config", config);
        var lanClient = System.Net.IPAddress.Parse("127.0.0.2");
        Assert.Equal("454 4.7.1 <friend@elsewhere.example>: Relay access denied", await RcptFromAsync(port, lanClient));

        File.WriteAllText(config, Config("\"127.0.0.1/32\", \"127.0.0.2/32\""));
        server.Signal("HUP");
        await server.WaitForOutputAsync("reload: done");
        Assert.Contains("fastspool info: reload: Relay:Networks: [127.0.0.1/32] -> [127.0.0.1/32, 127.0.0.2/32]\n", server.Output);
        Assert.Equal("250 2.1.5 Ok", await RcptFromAsync(port, lanClient));

        File.WriteAllText(config, Config("\"\"")); // one empty entry: nobody (an empty array would be no key, the default)
        server.Signal("HUP");
        await Wait.UntilAsync(() => Regex.Count(server.Output, "reload: done") == 2, because: "the second reload");
        Assert.Equal("454 4.7.1 <friend@elsewhere.example>: Relay access denied", await RcptFromAsync(port, IPAddress.Loopback));
        await server.StopAsync();
    }

    /// <summary>The reply to a RCPT for a remote recipient, from a client at <paramref name="from"/>.</summary>
    private static async Task<string> RcptFromAsync(int port, IPAddress from)
    {
        using RawSmtp raw = await RawSmtp.ConnectAsync(port, from);
        await raw.ExpectAsync("220 ");
        await raw.SendAsync("EHLO client.test\r\n");
        await raw.ExpectAsync("250 ");
        await raw.SendAsync("MAIL FROM:<me@example.org>\r\n");
        await raw.ExpectAsync("250 ");
        await raw.SendAsync("RCPT TO:<friend@elsewhere.example>\r\n");
        return await raw.ReadLineAsync(TimeSpan.FromSeconds(10)) ?? "(closed)";
    }
}
