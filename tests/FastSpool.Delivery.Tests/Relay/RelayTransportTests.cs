using System.Security.Cryptography.X509Certificates;
using System.Text;
using FastSpool.Configuration;
using FastSpool.Delivery.Relay;
using FastSpool.Delivery.Tests.Support;
using FastSpool.Delivery.Transport;
using FastSpool.Protocols.Smtp;
using FastSpool.Queue;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastSpool.Delivery.Tests.Relay;

/// <summary>The relay transport against the fault server: what each reply, silence, dropped connection, missing
/// extension, certificate and AUTH answer makes of each recipient. Messages come from a real queue (held at a gated
/// fake destination meanwhile); the transport is called as the queue manager calls it.</summary>
public sealed class RelayTransportTests : IAsyncLifetime
{
    private const string Text = "From: <alice@example.test>\r\nTo: <friend@elsewhere.example>\r\nSubject: relayed\r\n\r\n"
        + "first line\r\n.a line that starts with a dot\r\n.\r\n..\r\nlast line\r\n";

    private readonly SchedulerHarness _harness = new();
    private readonly FaultSmarthost _fault;
    private readonly List<TaskCompletionSource> _gates = [];
    private RelayTransport? _relay;

    public RelayTransportTests() : this(null)
    {
    }

    private RelayTransportTests(X509Certificate2? certificate) => _fault = new FaultSmarthost(certificate);

    public async Task InitializeAsync()
    {
        // The queue manager holds the messages at gated destinations while the tests hand them to the relay.
        _harness.Router.Add("friend", "other", "jörg");
        foreach (string held in new[] { "friend", "other", "jörg" })
            _gates.Add(_harness.Transport.Gate(held));
        await _harness.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_relay is not null)
            await _relay.DisposeAsync();
        foreach (TaskCompletionSource gate in _gates)
            gate.TrySetResult();
        await _harness.DisposeAsync();
        await _fault.DisposeAsync();
    }

    private RelayOptions Options(string tls = "none") => new()
    {
        Smarthost = $"[127.0.0.1]:{_fault.Port}",
        Tls = tls,
        MaxConnections = 2,
        MessagesPerConnection = 100,
    };

    private RelayTransport Relay(RelayOptions? options = null, RelayTimeouts? timeouts = null, int maxReceived = 50) =>
        _relay = new RelayTransport(new RelaySettings(options ?? Options(), SchedulerHarness.Hostname, maxReceived, timeouts), _harness.MailQueue, _harness.Clock,
            NullLogger.Instance);

    private Task<QueuedMessage> SubmitAsync(params string[] recipients) => _harness.SubmitAsync("alice@example.test", recipients, text: Text);

    private static List<DeliveryItem> Items(params QueuedMessage[] messages) =>
        [.. messages.SelectMany(m => m.Recipients.Select((r, i) => new DeliveryItem(m, i, r.Address)))];

    private static async Task<DeliveryResult[]> DeliverAsync(RelayTransport relay, List<DeliveryItem> items)
    {
        var results = new DeliveryResult[items.Count];
        await relay.DeliverAsync(relay.Destination, items, results, CancellationToken.None);
        return results;
    }

    private async Task<DeliveryResult> DeliverOneAsync(RelayTransport? relay = null) =>
        (await DeliverAsync(relay ?? Relay(), Items(await SubmitAsync("friend@elsewhere.example"))))[0];

    private string Peer => $"127.0.0.1[127.0.0.1]:{_fault.Port}";

    [Fact]
    public async Task ASentMessageArrivesIntactWithTheRemoteReply()
    {
        DeliveryResult result = await DeliverOneAsync();
        Assert.Equal(DeliveryResultKind.Sent, result.Kind);
        Assert.Equal(new DeliveryReply(250, "2.0.0", "Ok: queued as F00D", Peer), result.Reply);
        Assert.Equal("250 2.0.0 Ok: queued as F00D", result.Reply.DescribeSent());
        var (sender, recipients, text, _) = Assert.Single(_fault.Messages);
        Assert.Equal(("alice@example.test", "friend@elsewhere.example"), (sender, Assert.Single(recipients)));
        Assert.Equal(Text, Encoding.UTF8.GetString(text));
    }

    [Fact]
    public async Task WithoutChunkingTheTextIsDotStuffedAndArrivesIntact()
    {
        _fault.Extensions.Remove("CHUNKING");
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverOneAsync()).Kind);
        Assert.Equal(Text, Encoding.UTF8.GetString(Assert.Single(_fault.Messages).Text));
        Assert.Contains("DATA", _fault.Commands);
        Assert.DoesNotContain(_fault.Commands, c => c.StartsWith("BDAT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithChunkingTheTextGoesAsOneBdatLast()
    {
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverOneAsync()).Kind);
        Assert.Contains($"BDAT {Encoding.UTF8.GetByteCount(Text)} LAST", _fault.Commands);
        Assert.DoesNotContain("DATA", _fault.Commands);
    }

    [Theory]
    [InlineData("GREETING", "421 4.3.2 smarthost.test busy", DeliveryResultKind.Temporary, "4.3.2")]
    [InlineData("GREETING", "554 5.7.1 go away", DeliveryResultKind.Permanent, "5.7.1")]
    [InlineData("EHLO", "421 4.7.0 not now", DeliveryResultKind.Temporary, "4.7.0")]
    [InlineData("MAIL", "451 4.3.0 try later", DeliveryResultKind.Temporary, "4.3.0")]
    [InlineData("MAIL", "553 5.7.1 sender refused", DeliveryResultKind.Permanent, "5.7.1")]
    [InlineData("RCPT", "450 4.2.0 mailbox busy", DeliveryResultKind.Temporary, "4.2.0")]
    [InlineData("RCPT", "550 5.1.1 no such user here", DeliveryResultKind.Permanent, "5.1.1")]
    [InlineData("DOT", "451 4.3.0 queue file write error", DeliveryResultKind.Temporary, "4.3.0")]
    [InlineData("DOT", "554 5.6.0 message refused", DeliveryResultKind.Permanent, "5.6.0")]
    [InlineData("DOT", "554 message refused without a status", DeliveryResultKind.Permanent, "5.0.0")]
    public async Task EachStepsReplyDefersOrBouncesByItsCode(string step, string reply, DeliveryResultKind kind, string status)
    {
        _fault.Replies[step] = reply;
        await AssertRemoteFailureAsync(kind, status, reply);
    }

    [Theory]
    [InlineData("DATA", "451 4.3.0 not now", DeliveryResultKind.Temporary, "4.3.0")]
    [InlineData("DATA", "554 5.5.1 no", DeliveryResultKind.Permanent, "5.5.1")]
    [InlineData("DOT", "452 4.3.1 insufficient storage", DeliveryResultKind.Temporary, "4.3.1")]
    public async Task DataAndTheFinalDotAnswerWithoutChunkingToo(string step, string reply, DeliveryResultKind kind, string status)
    {
        _fault.Extensions.Remove("CHUNKING");
        _fault.Replies[step] = reply;
        await AssertRemoteFailureAsync(kind, status, reply);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RepliesAreTheSameWithoutPipelining(bool chunking)
    {
        _fault.Extensions.Remove("PIPELINING");
        if (!chunking)
            _fault.Extensions.Remove("CHUNKING");
        _fault.Replies["RCPT"] = "550 5.1.1 no such user here";
        await AssertRemoteFailureAsync(DeliveryResultKind.Permanent, "5.1.1", "550 5.1.1 no such user here");
        // One command at a time: after the refused RCPT there is nothing to send, so no DATA or BDAT.
        Assert.DoesNotContain(_fault.Commands, c => c.StartsWith("DATA", StringComparison.Ordinal) || c.StartsWith("BDAT", StringComparison.Ordinal));
    }

    private async Task AssertRemoteFailureAsync(DeliveryResultKind kind, string status, string reply)
    {
        DeliveryResult result = await DeliverOneAsync();
        Assert.Equal(kind, result.Kind);
        Assert.Equal(status, result.Reply.EnhancedStatus);
        Assert.Equal(Peer, result.Reply.RemoteHost);
        Assert.Equal(int.Parse(reply[..3], System.Globalization.CultureInfo.InvariantCulture), result.Reply.Code);
        Assert.EndsWith(reply[4..].Replace(status + " ", "", StringComparison.Ordinal), result.Reply.Describe(), StringComparison.Ordinal);
        Assert.Empty(_fault.Messages);
    }

    [Fact]
    public async Task AnEhloRefusedWith5xxFallsBackToHelo()
    {
        _fault.Replies["EHLO"] = "502 5.5.2 Error: command not recognized";
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverOneAsync()).Kind);
        Assert.Contains($"HELO {SchedulerHarness.Hostname}", _fault.Commands);
        // Without EHLO nothing is offered: DATA, and no parameters on MAIL.
        Assert.Equal("MAIL FROM:<alice@example.test>", Assert.Single(_fault.Messages).MailLine);
    }

    [Fact]
    public async Task AHeloRefusedToo5xxBounces()
    {
        _fault.Replies["EHLO"] = "500 5.5.2 what";
        _fault.Replies["HELO"] = "550 5.7.1 not you";
        Assert.Equal(DeliveryResultKind.Permanent, (await DeliverOneAsync()).Kind);
    }

    [Fact]
    public async Task EachRecipientGetsItsOwnReplyInOneTransaction()
    {
        _fault.Replies["RCPT other@elsewhere.example"] = "550 5.1.1 unknown";
        DeliveryResult[] results = await DeliverAsync(Relay(), Items(await SubmitAsync("friend@elsewhere.example", "other@elsewhere.example")));
        Assert.Equal([DeliveryResultKind.Sent, DeliveryResultKind.Permanent], results.Select(r => r.Kind));
        Assert.Equal("host " + Peer + " said: 550 5.1.1 unknown", results[1].Reply.Describe());
        Assert.Equal(["friend@elsewhere.example"], Assert.Single(_fault.Messages).Recipients);
    }

    [Fact]
    public async Task AConnectionDroppedInTheMessageTextDefers()
    {
        _fault.DropAfterDataOctets = 20;
        DeliveryResult result = await DeliverOneAsync();
        Assert.Equal(DeliveryResultKind.Temporary, result.Kind);
        Assert.StartsWith($"lost connection with {Peer} during ", result.Reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASmarthostThatCannotBeReachedDefersTheWholeBatch()
    {
        RelayTransport relay = Relay();
        int port = _fault.Port;
        await _fault.DisposeAsync();
        DeliveryResult[] results = await DeliverAsync(relay, Items(await SubmitAsync("friend@elsewhere.example"), await SubmitAsync("other@elsewhere.example")));
        Assert.All(results, r => Assert.Equal(DeliveryResultKind.Temporary, r.Kind));
        Assert.All(results, r => Assert.StartsWith($"connect to 127.0.0.1:{port}: ", r.Reply.Text, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("GREETING", "the greeting")]
    [InlineData("EHLO", "EHLO")]
    [InlineData("MAIL", "MAIL FROM")]
    [InlineData("RCPT", "RCPT TO")]
    [InlineData("DATA", "DATA")]
    [InlineData("DOT", "the end of the message")]
    public async Task EachStallDefersAfterItsTimeoutAndNotBefore(string step, string waitingFor)
    {
        if (step == "DATA")
            _fault.Extensions.Remove("CHUNKING");
        _fault.Stalls[step] = true;
        var timeouts = new RelayTimeouts();
        TimeSpan timeout = step switch
        {
            "GREETING" => timeouts.Greeting,
            "EHLO" => timeouts.Command,
            "DATA" => timeouts.DataInitiation,
            "DOT" => timeouts.DataTermination,
            _ => timeouts.MailRcpt,
        };
        QueuedMessage message = await SubmitAsync("friend@elsewhere.example");
        Task<DeliveryResult[]> delivery = DeliverAsync(Relay(timeouts: timeouts), Items(message));
        await Wait.UntilAsync(() => _fault.Reached.Contains(step), because: $"the client to wait at {step}");
        // The clock moves on in steps while the client waits; it must give up once its timeout has passed, not before.
        TimeSpan tick = TimeSpan.FromSeconds(10);
        TimeSpan advanced = await AdvanceUntilDoneAsync(delivery, tick);
        Assert.InRange(advanced, timeout, timeout + (3 * tick));
        DeliveryResult result = (await delivery)[0];
        Assert.Equal(DeliveryResultKind.Temporary, result.Kind);
        Assert.Equal($"conversation with {Peer} timed out while waiting for {waitingFor}", result.Reply.Text);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASmarthostThatStopsReadingTheTextDefersAfterTheBlockTimeoutAndNotBefore(bool chunking)
    {
        // Larger than what the loopback socket buffers hold on both sides, so that the client's writes block.
        _fault.Extensions.RemoveAll(e => e.StartsWith("SIZE", StringComparison.Ordinal));
        if (!chunking)
            _fault.Extensions.Remove("CHUNKING");
        _fault.Stalls["TEXT"] = true;
        var timeouts = new RelayTimeouts();
        string line = new string('x', 998) + "\r\n";
        var text = new StringBuilder("From: <alice@example.test>\r\nSubject: large\r\n\r\n", 40 << 20);
        while (text.Length < 40 << 20)
            text.Append(line);
        QueuedMessage message = await _harness.SubmitAsync("alice@example.test", ["friend@elsewhere.example"], text: text.ToString());
        Task<DeliveryResult[]> delivery = DeliverAsync(Relay(timeouts: timeouts), Items(message));
        await Wait.UntilAsync(() => _fault.Reached.Contains("TEXT"), because: "the smarthost to stop reading the text");
        // The clock moves on in steps; the client must give up once a block has waited the block timeout, not before.
        // Steps taken while its writes still went through (before the buffers filled) count toward no block.
        TimeSpan tick = TimeSpan.FromSeconds(10);
        TimeSpan advanced = await AdvanceUntilDoneAsync(delivery, tick);
        Assert.True(advanced >= timeouts.DataBlock, $"gave up after {advanced}, before the block timeout {timeouts.DataBlock}");
        DeliveryResult result = (await delivery)[0];
        Assert.Equal(DeliveryResultKind.Temporary, result.Kind);
        Assert.Equal($"conversation with {Peer} timed out while waiting for {(chunking ? "BDAT" : "the message text")}", result.Reply.Text);
    }

    /// <summary>Moves the clock on by <paramref name="tick"/> at each probe until <paramref name="delivery"/> ends; how far.</summary>
    private async Task<TimeSpan> AdvanceUntilDoneAsync(Task delivery, TimeSpan tick)
    {
        TimeSpan advanced = TimeSpan.Zero;
        await Wait.UntilAsync(() =>
        {
            if (delivery.IsCompleted)
                return true;
            _harness.Clock.Advance(tick);
            advanced += tick;
            return false;
        }, because: "the client to give up");
        return advanced;
    }

    [Fact]
    public async Task ConnectionsAreReusedWithRsetBetweenMessagesUpToTheLimit()
    {
        RelayOptions options = Options();
        options.MaxConnections = 1;
        options.MessagesPerConnection = 2;
        QueuedMessage[] messages = [await SubmitAsync("friend@elsewhere.example"), await SubmitAsync("other@elsewhere.example"), await SubmitAsync("friend@elsewhere.example")];
        DeliveryResult[] results = await DeliverAsync(Relay(options), Items(messages));
        Assert.All(results, r => Assert.Equal(DeliveryResultKind.Sent, r.Kind));
        Assert.Equal(3, _fault.Messages.Count);
        Assert.Equal(2, _fault.Connections); // two messages on the first, the third on a new one
        Assert.Contains("RSET", _fault.Commands);
        Assert.Equal(1, _fault.Commands.Count(c => c == "QUIT"));
    }

    [Fact]
    public async Task AnIdleConnectionIsUsedForTheNextBatch()
    {
        RelayTransport relay = Relay();
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverOneAsync(relay)).Kind);
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverOneAsync(relay)).Kind);
        Assert.Equal(1, _fault.Connections);
        _harness.Clock.Advance(TimeSpan.FromSeconds(3)); // past the time an idle connection is kept
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverOneAsync(relay)).Kind);
        Assert.Equal(2, _fault.Connections);
    }

    [Fact]
    public async Task AMessageLargerThanTheServersSizeIsRefusedBeforeAnythingIsSent()
    {
        _fault.Extensions.Remove("SIZE 10485760");
        _fault.Extensions.Add("SIZE 100");
        DeliveryResult result = await DeliverOneAsync();
        Assert.Equal((DeliveryResultKind.Permanent, 552, "5.3.4"), (result.Kind, result.Reply.Code, result.Reply.EnhancedStatus));
        Assert.DoesNotContain(_fault.Commands, c => c.StartsWith("MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SizeAndBodyAndSmtpUtf8ArePassedOnMail()
    {
        QueuedMessage message = await _harness.SubmitAsync("jörg@bücher.example", ["friend@elsewhere.example"], text: Text, eightBitMime: true, smtpUtf8: true);
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverAsync(Relay(), Items(message)))[0].Kind);
        Assert.Equal($"MAIL FROM:<jörg@bücher.example> SIZE={message.Size} BODY=8BITMIME SMTPUTF8", Assert.Single(_fault.Messages).MailLine);
    }

    [Fact]
    public async Task WithoutEightBitMimeAnEightBitMessageBouncesWith563()
    {
        _fault.Extensions.Remove("8BITMIME");
        QueuedMessage message = await _harness.SubmitAsync("alice@example.test", ["friend@elsewhere.example"], text: Text, eightBitMime: true);
        DeliveryResult result = (await DeliverAsync(Relay(), Items(message)))[0];
        Assert.Equal((DeliveryResultKind.Permanent, "5.6.3"), (result.Kind, result.Reply.EnhancedStatus));
        Assert.DoesNotContain(_fault.Commands, c => c.StartsWith("MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutSmtpUtf8AnSmtpUtf8MessageBouncesWith567()
    {
        _fault.Extensions.Remove("SMTPUTF8");
        QueuedMessage message = await _harness.SubmitAsync("jörg@bücher.example", ["friend@elsewhere.example"], text: Text, smtpUtf8: true);
        DeliveryResult result = (await DeliverAsync(Relay(), Items(message)))[0];
        Assert.Equal((DeliveryResultKind.Permanent, "5.6.7"), (result.Kind, result.Reply.EnhancedStatus));
    }

    [Fact]
    public async Task DsnParametersArePassedOnWhenOffered()
    {
        QueuedMessage message = await _harness.SubmitAsync("alice@example.test", ["friend@elsewhere.example"], DsnNotify.Success | DsnNotify.Failure,
            ["rfc822;friend+tag@elsewhere.example"], Text, ret: DsnReturn.Headers, envelopeId: "QQ 314");
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverAsync(Relay(), Items(message)))[0].Kind);
        Assert.Equal($"MAIL FROM:<alice@example.test> SIZE={message.Size} RET=HDRS ENVID=QQ+20314", Assert.Single(_fault.Messages).MailLine);
        Assert.Contains("RCPT TO:<friend@elsewhere.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;friend+2Btag@elsewhere.example", _fault.Commands);
    }

    /// <summary>A utf-8 ORCPT (kept decoded) goes out in RFC 6533's 7-bit utf-8-addr-xtext form, never as +XX.</summary>
    [Fact]
    public async Task AnInternationalizedOriginalRecipientIsPassedOnEscaped()
    {
        QueuedMessage message = await _harness.SubmitAsync("alice@example.test", ["friend@elsewhere.example"], DsnNotify.Failure,
            ["utf-8;jöran+x@exämple.org"], Text);
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverAsync(Relay(), Items(message)))[0].Kind);
        Assert.Contains(@"RCPT TO:<friend@elsewhere.example> NOTIFY=FAILURE ORCPT=utf-8;j\x{F6}ran\x{2B}x@ex\x{E4}mple.org", _fault.Commands);
    }

    [Fact]
    public async Task WithoutDsnNoDsnParameterIsSent()
    {
        _fault.Extensions.Remove("DSN");
        QueuedMessage message = await _harness.SubmitAsync("alice@example.test", ["friend@elsewhere.example"], DsnNotify.Success, ["rfc822;friend@elsewhere.example"], Text,
            ret: DsnReturn.Full, envelopeId: "x");
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverAsync(Relay(), Items(message)))[0].Kind);
        Assert.Contains("RCPT TO:<friend@elsewhere.example>", _fault.Commands);
        Assert.DoesNotContain(_fault.Commands, c => c.Contains("NOTIFY", StringComparison.Ordinal) || c.Contains("ENVID", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASmarthostThatGreetsWithOurOwnNameIsALoopThatBounces()
    {
        _fault.Name = SchedulerHarness.Hostname;
        DeliveryResult result = await DeliverOneAsync();
        Assert.Equal((DeliveryResultKind.Permanent, "5.4.6", "mail for 127.0.0.1 loops back to myself"), (result.Kind, result.Reply.EnhancedStatus, result.Reply.Text));
        Assert.DoesNotContain(_fault.Commands, c => c.StartsWith("MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MoreReceivedHeadersThanTheLimitBounceAsTooManyHops()
    {
        string hops = string.Concat(Enumerable.Range(0, 4).Select(i => $"Received: from hop{i}.example by hop{i + 1}.example; Mon, 2 Mar 2026 09:00:00 +0000\r\n"));
        QueuedMessage message = await _harness.SubmitAsync("alice@example.test", ["friend@elsewhere.example"], text: hops + Text);
        DeliveryResult[] atLimit = await DeliverAsync(Relay(maxReceived: 4), Items(message));
        Assert.Equal(DeliveryResultKind.Sent, atLimit[0].Kind);
        DeliveryResult overLimit = (await DeliverAsync(Relay(maxReceived: 3), Items(message)))[0];
        Assert.Equal((DeliveryResultKind.Permanent, "5.4.0"), (overLimit.Kind, overLimit.Reply.EnhancedStatus));
        Assert.Single(_fault.Messages);
    }
}
