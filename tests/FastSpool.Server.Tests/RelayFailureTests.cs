using System.Net;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace FastSpool.Server.Tests;

/// <summary>What a user sees when the smarthost says no: a 4xx defers (mailq shows the reply, flush tries again), a 5xx
/// bounces at once with a notice that names the Remote-MTA and quotes its reply (read with MimeKit's
/// MultipartReport and MessageDeliveryStatus).</summary>
public sealed class RelayFailureTests : IAsyncLifetime
{
    private readonly FaultSmarthost _fault = new();
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(o =>
    {
        o.Relay.Smarthost = $"[127.0.0.1]:{_fault.Port}";
        o.Relay.Tls = "none";
        o.Delivery.RetryDelay = TimeSpan.FromMinutes(5);
        o.Delivery.MaxRetryDelay = TimeSpan.FromMinutes(5);
    }, logLevel: LogLevel.Information);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _fault.DisposeAsync();
    }

    private string Peer => $"127.0.0.1[127.0.0.1]:{_fault.Port}";

    private async Task SendAsync(string subject)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", _server.Port, SecureSocketOptions.None);
        await client.SendAsync(TestMessage.Create(subject, to: "friend@elsewhere.example", from: "alice@localhost"));
        await client.DisconnectAsync(true);
    }

    private CliResult Cli(params string[] args) => CliRunner.Run([.. args, "--data", _server.Options.DataDirectory]);

    [Fact]
    public async Task ATemporaryReplyDefersAndMailqShowsItUntilFlushSendsIt()
    {
        _fault.Replies["RCPT"] = "451 4.3.0 try later";
        await SendAsync("deferred");
        string reason = $"(host {Peer} said: 451 4.3.0 try later)";
        await Wait.UntilAsync(() => Cli("mailq").Out.Contains(reason, StringComparison.Ordinal), because: "mailq to show the deferral",
            observed: () => Cli("mailq").Out);
        Assert.Contains(_server.Log.Lines, l => l.Contains($"to=<friend@elsewhere.example>, relay={Peer}, ", StringComparison.Ordinal)
            && l.Contains($"status=deferred (host {Peer} said: 451 4.3.0 try later); retry in", StringComparison.Ordinal));
        Assert.Empty(_fault.Messages);

        _fault.Replies.Clear();
        Assert.Equal(0, Cli("flush").Code);
        await Wait.UntilAsync(() => _fault.Messages.Count == 1, because: "flush to send the message");
        await _server.WaitForIdleQueueAsync();
    }

    [Fact]
    public async Task APermanentReplyBouncesAtOnceWithRemoteMtaAndDiagnosticCode()
    {
        _fault.Replies["RCPT"] = "550 5.1.1 <friend@elsewhere.example>: no such user here";
        await SendAsync("bounced");
        var (_, notice) = Assert.Single(await _server.DeliveredAsync("alice", 1));
        ReceivedDsn dsn = ReceivedDsn.Read(notice);
        HeaderList recipient = dsn.Recipient;
        Assert.Equal("rfc822; friend@elsewhere.example", recipient["Final-Recipient"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.1.1", recipient["Status"]);
        Assert.Equal("dns; 127.0.0.1", recipient["Remote-MTA"]);
        Assert.Equal("smtp; 550 5.1.1 <friend@elsewhere.example>: no such user here", recipient["Diagnostic-Code"]);
        Assert.Contains(_server.Log.Lines, l => l.Contains(
            $"to=<friend@elsewhere.example>, relay={Peer}, ", StringComparison.Ordinal)
            && l.EndsWith($"status=bounced (host {Peer} said: 550 5.1.1 <friend@elsewhere.example>: no such user here)", StringComparison.Ordinal));
    }

    /// <summary>A failure in the session with a host that answered (here: it drops the connection in the middle of the
    /// text) is logged with that host, as Postfix logs it, and is not quoted as something the host said.</summary>
    [Fact]
    public async Task AFailureAfterTheHostAnsweredIsLoggedWithTheHost()
    {
        _fault.DropAfterDataOctets = 10;
        await SendAsync("dropped");
        await Wait.UntilAsync(() => _server.Log.Lines.Any(l => l.Contains($"to=<friend@elsewhere.example>, relay={Peer}, ", StringComparison.Ordinal)
                && l.Contains($"status=deferred (lost connection with {Peer} during ", StringComparison.Ordinal)),
            because: "the deferral to be logged with the host", observed: () => string.Join('\n', _server.Log.Lines));
        Assert.DoesNotContain(_server.Log.Lines, l => l.Contains("said: 451 4.4.2 lost connection", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASmarthostThatCannotBeReachedIsLoggedAsRelayNone()
    {
        await _fault.DisposeAsync(); // its port now refuses connections
        await SendAsync("unreachable");
        await Wait.UntilAsync(() => _server.Log.Lines.Any(l => l.Contains("to=<friend@elsewhere.example>, relay=none, ", StringComparison.Ordinal)
                && l.Contains("status=deferred (", StringComparison.Ordinal)),
            because: "the deferral to be logged with relay=none, as no host answered", observed: () => string.Join('\n', _server.Log.Lines));
        Assert.DoesNotContain(_server.Log.Lines, l => l.Contains("relay=relay", StringComparison.Ordinal));
    }
}
