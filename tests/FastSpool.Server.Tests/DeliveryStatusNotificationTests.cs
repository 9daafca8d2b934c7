using System.Text;
using FastSpool.Server.Tests.Support;
using MailKit;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Logging;
using MimeKit;
using MimeKit.Utils;
using static FastSpool.Server.Tests.Support.SmtpDialog;

namespace FastSpool.Server.Tests;

/// <summary>RFC 3461 over SMTP and the RFC 3464 reports that come of it, end to end: MailKit (or a raw dialogue,
/// for what MailKit would not send) gives NOTIFY, ORCPT, RET and ENVID; the reports land in the local sender's
/// mailbox and are read with MimeKit. A mailbox that is a symbolic link is refused for good (5.2.0).</summary>
public sealed class DeliveryStatusNotificationTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(logLevel: LogLevel.Information);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string RefusedReason => $"{_server.MailboxPath("alice")} is a symbolic link";

    /// <summary>Makes alice's mailbox a symbolic link to a file, which delivery refuses; returns the file.</summary>
    private string RefuseAlice()
    {
        Directory.CreateDirectory(_server.MailDirectory);
        string target = Path.Combine(_server.Options.DataDirectory, "not-a-mailbox");
        File.WriteAllText(target, "");
        File.CreateSymbolicLink(_server.MailboxPath("alice"), target);
        return target;
    }

    private async Task<(string Id, DateTimeOffset Sent)> SendAsync(MimeMessage message, DeliveryStatusNotification? notify,
        string? envelopeId = null, DeliveryStatusNotificationType ret = DeliveryStatusNotificationType.Unspecified)
    {
        using DsnSmtpClient client = await DsnSmtpClient.ConnectAsync(_server);
        client.Notify = notify;
        client.EnvelopeId = envelopeId;
        client.DeliveryStatusNotificationType = ret;
        DateTimeOffset sent = DateTimeOffset.UtcNow;
        string id = await client.SendForIdAsync(message);
        await client.DisconnectAsync(true);
        return (id, sent);
    }

    /// <summary>A raw transaction: each command gets its expected reply; the message is sent and its id returned.</summary>
    private static async Task<string> TransactAsync(RawSmtp raw, string mail, string rcpt, string subject)
    {
        await raw.SendAsync(mail + "\r\n");
        await ExpectLineAsync(raw, "250 2.1.0 Ok");
        await raw.SendAsync(rcpt + "\r\n");
        await ExpectLineAsync(raw, "250 2.1.5 Ok");
        await raw.SendAsync("DATA\r\n");
        await ExpectLineAsync(raw, "354 End data with <CR><LF>.<CR><LF>");
        await raw.SendAsync($"From: bob@localhost\r\nTo: alice@localhost\r\nSubject: {subject}\r\n\r\nfor the report\r\n.\r\n");
        string? reply = await raw.ReadLineAsync(ReplyTimeout);
        Assert.Matches("^250 2.0.0 Ok: queued as [0-9A-F]{13}$", reply);
        return reply![^13..];
    }

    private static DateTimeOffset Date(string? value)
    {
        Assert.True(DateUtils.TryParse(value, out DateTimeOffset date), $"'{value}' is not an RFC 5322 date");
        return date;
    }

    private void AssertBounced(string id) =>
        Assert.Contains(_server.Log.Lines, l => l.StartsWith($"{id}: to=<alice@localhost>, relay=local, ", StringComparison.Ordinal)
            && l.EndsWith($", status=bounced ({RefusedReason})", StringComparison.Ordinal));

    [Fact]
    public async Task EhloOffersDsnAndMailKitSeesIt()
    {
        using (RawSmtp raw = await RawSmtp.ConnectAsync(_server.Port))
        {
            await raw.ExpectAsync("220 ");
            await raw.SendAsync("EHLO client.test\r\n");
            var lines = new List<string>();
            string? line;
            do
            {
                line = await raw.ReadLineAsync(ReplyTimeout);
                Assert.NotNull(line);
                lines.Add(line);
            }
            while (line.Length > 3 && line[3] == '-');
            Assert.Contains("250-DSN", lines);
        }
        using DsnSmtpClient client = await DsnSmtpClient.ConnectAsync(_server);
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Dsn), client.Capabilities.ToString());
    }

    [Fact]
    public async Task ARefusedMailboxBouncesWithOneReportCarryingEveryField()
    {
        string target = RefuseAlice();
        string subject = "refused " + Guid.NewGuid().ToString("N");
        DateTimeOffset sent = DateTimeOffset.UtcNow;
        string id;
        using (RawSmtp raw = await OpenAsync(_server))
        {
            // The ORCPT is xtext: +2B is '+', and the report gives it back decoded, as the client meant it.
            id = await TransactAsync(raw, "MAIL FROM:<bob@localhost> ENVID=env+2D42", "RCPT TO:<alice@localhost> NOTIFY=FAILURE ORCPT=rfc822;Alice+2Bx@example.org", subject);
        }

        var (marker, notice) = Assert.Single(await _server.DeliveredAsync("bob", 1));
        Assert.StartsWith("From MAILER-DAEMON ", marker);
        Assert.Equal("Undelivered Mail Returned to Sender", notice.Subject);
        Assert.Equal("MAILER-DAEMON@mx.example.test", notice.From.Mailboxes.Single().Address);
        Assert.Equal("auto-replied", notice.Headers["Auto-Submitted"]);
        ReceivedDsn dsn = ReceivedDsn.Read(notice);
        Assert.Equal("env-42", dsn.PerMessage["Original-Envelope-Id"]);
        Assert.Equal("dns; mx.example.test", dsn.PerMessage["Reporting-MTA"]);
        Assert.Equal("dns; [127.0.0.1]", dsn.PerMessage["Received-From-MTA"]);
        DateTimeOffset arrival = Date(dsn.PerMessage["Arrival-Date"]);
        Assert.InRange(arrival, sent.AddSeconds(-1), DateTimeOffset.UtcNow);
        Assert.Equal(id, dsn.OriginalId);
        Assert.Equal("rfc822; bob@localhost", dsn.PerMessage["X-FastSpool-Sender"]);

        HeaderList recipient = dsn.Recipient;
        Assert.Equal("rfc822;Alice+x@example.org", recipient["Original-Recipient"]);
        Assert.Equal("rfc822; alice@localhost", recipient["Final-Recipient"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.2.0", recipient["Status"]);
        Assert.Equal($"X-FastSpool; 550 5.2.0 {RefusedReason}", recipient["Diagnostic-Code"]);
        Assert.InRange(Date(recipient["Last-Attempt-Date"]), arrival.AddSeconds(-1), DateTimeOffset.UtcNow);
        Assert.Null(recipient["Will-Retry-Until"]);

        // RET not given: the header section comes back, not the body.
        HeaderList returned = dsn.ReturnedHeaders();
        Assert.Equal(subject, returned[HeaderId.Subject]);
        Assert.Contains(id, returned[HeaderId.Received]);
        Assert.Equal(["text/plain", "message/delivery-status", "text/rfc822-headers"], dsn.Report.Select(p => p.ContentType.MimeType));
        Assert.DoesNotContain("for the report", notice.ToString());

        Assert.Equal("", File.ReadAllText(target));
        AssertBounced(id);
    }

    [Fact]
    public async Task RetFullReturnsTheWholeMessageAndMailKitsParametersArriveAsSent()
    {
        RefuseAlice();
        string subject = "returned whole " + Guid.NewGuid().ToString("N");
        string envelopeId = "<" + Guid.NewGuid().ToString("N") + "@client.test>";
        MimeMessage original = TestMessage.Create(subject, "the whole body\ncomes back\n", "alice@localhost", "bob@localhost");
        var (id, _) = await SendAsync(original, DeliveryStatusNotification.Failure | DeliveryStatusNotification.Delay, envelopeId, DeliveryStatusNotificationType.Full);

        ReceivedDsn dsn = ReceivedDsn.Read(Assert.Single(await _server.DeliveredAsync("bob", 1)).Message);
        Assert.Equal(id, dsn.OriginalId);
        Assert.Equal(envelopeId, dsn.PerMessage["Original-Envelope-Id"]);
        Assert.Equal("failed", dsn.Recipient["Action"]);
        Assert.Equal("5.2.0", dsn.Recipient["Status"]);
        Assert.Equal("rfc822;alice@localhost", dsn.Recipient["Original-Recipient"]); // MailKit gives ORCPT with NOTIFY
        MimeMessage returned = dsn.ReturnedMessage();
        Assert.Equal(subject, returned.Subject);
        Assert.Equal(original.MessageId, returned.MessageId);
        Assert.Equal("the whole body\ncomes back\n", (returned.TextBody ?? "").Replace("\r\n", "\n"));
        Assert.Equal(["text/plain", "message/delivery-status", "message/rfc822"], dsn.Report.Select(p => p.ContentType.MimeType));
        AssertBounced(id);
    }

    [Fact]
    public async Task NotifyNeverSendsNoReportAtAll()
    {
        RefuseAlice();
        var (never, _) = await SendAsync(TestMessage.Create("never", "x\n", "alice@localhost", "bob@localhost"), DeliveryStatusNotification.Never);
        var (reported, _) = await SendAsync(TestMessage.Create("reported", "x\n", "alice@localhost", "bob@localhost"), null);

        // Once the queue is idle no report is still to come: the one in the mailbox is the second message's.
        ReceivedDsn dsn = ReceivedDsn.Read(Assert.Single(await _server.DeliveredAsync("bob", 1)).Message);
        Assert.Equal(reported, dsn.OriginalId);
        AssertBounced(never);
        AssertBounced(reported);
    }

    [Fact]
    public async Task NotifySuccessSendsADeliveredReportAfterLocalDelivery()
    {
        var (id, sent) = await SendAsync(TestMessage.Create("wanted", "hello\n", "alice@localhost", "bob@localhost"), DeliveryStatusNotification.Success);

        Assert.Equal("wanted", Assert.Single(await _server.DeliveredAsync("alice", 1)).Message.Subject);
        var (marker, notice) = Assert.Single(await _server.DeliveredAsync("bob", 1));
        Assert.StartsWith("From MAILER-DAEMON ", marker);
        Assert.Equal("Successful Mail Delivery Report", notice.Subject);
        ReceivedDsn dsn = ReceivedDsn.Read(notice);
        Assert.Equal(id, dsn.OriginalId);
        Assert.Equal("rfc822; alice@localhost", dsn.Recipient["Final-Recipient"]);
        Assert.Equal("delivered", dsn.Recipient["Action"]);
        Assert.Equal("2.0.0", dsn.Recipient["Status"]);
        Assert.InRange(Date(dsn.Recipient["Last-Attempt-Date"]), sent.AddSeconds(-1), DateTimeOffset.UtcNow);
        Assert.Equal("wanted", dsn.ReturnedHeaders()[HeaderId.Subject]);
    }

    /// <summary>RFC 6533: an internationalized ORCPT, raw (utf-8-addr-unitext, in an SMTPUTF8 transaction) or escaped
    /// (utf-8-addr-xtext), is kept decoded and comes back in the report in the 7-bit escaped form.</summary>
    [Theory]
    [InlineData(@"ORCPT=utf-8;jöran\x{2B}x@exämple.org")] // '+' is no QCHAR: escaped in either form
    [InlineData(@"ORCPT=utf-8;j\x{F6}ran\x{2B}x@ex\x{E4}mple.org")]
    [InlineData(@"ORCPT=UTF-8;j\x{f6}ran\x{2b}x@ex\x{e4}mple.org")]
    public async Task AnInternationalizedOriginalRecipientComesBackEscaped(string orcpt)
    {
        using (RawSmtp raw = await OpenAsync(_server))
            await TransactAsync(raw, "MAIL FROM:<bob@localhost> SMTPUTF8", $"RCPT TO:<alice@localhost> NOTIFY=SUCCESS {orcpt}", "utf-8 orcpt");

        Assert.Single(await _server.DeliveredAsync("alice", 1));
        ReceivedDsn dsn = ReceivedDsn.Read(Assert.Single(await _server.DeliveredAsync("bob", 1)).Message);
        Assert.Equal(@"utf-8;j\x{F6}ran\x{2B}x@ex\x{E4}mple.org", dsn.Recipient["Original-Recipient"]);
    }

    [Fact]
    public async Task ANullSenderBounceGoesToThePostmasterOnceAndNeverBackToTheNullSender()
    {
        RefuseAlice();
        string id;
        using (RawSmtp raw = await OpenAsync(_server))
            id = await TransactAsync(raw, "MAIL FROM:<>", "RCPT TO:<alice@localhost>", "a bounce that bounces");

        var (marker, notice) = Assert.Single(await _server.DeliveredAsync("postmaster", 1));
        Assert.StartsWith("From MAILER-DAEMON ", marker);
        Assert.Equal("MAILER-DAEMON@mx.example.test", notice.From.Mailboxes.Single().Address);
        Assert.Equal("postmaster", notice.Headers["Delivered-To"]);
        ReceivedDsn dsn = ReceivedDsn.Read(notice);
        Assert.Equal(id, dsn.OriginalId);
        Assert.Null(dsn.PerMessage["X-FastSpool-Sender"]);
        Assert.Equal("5.2.0", dsn.Recipient["Status"]);
        Assert.Equal("a bounce that bounces", dsn.ReturnedHeaders()[HeaderId.Subject]);
        Assert.Equal(0, Mailbox.CountSeparators(_server.MailboxPath("bob")));
        AssertBounced(id);
    }

    [Theory]
    [InlineData("MAIL FROM:<bob@localhost> RET=HDRS", null)]
    [InlineData("MAIL FROM:<bob@localhost> ENVID=abc", null)]
    [InlineData("MAIL FROM:<bob@localhost>", "RCPT TO:<alice@localhost> NOTIFY=FAILURE")]
    [InlineData("MAIL FROM:<bob@localhost>", "RCPT TO:<alice@localhost> ORCPT=rfc822;alice@localhost")]
    public async Task DsnParametersAfterHeloAreRefused(string mail, string? rcpt)
    {
        using RawSmtp raw = await OpenAsync(_server, extended: false);
        await raw.SendAsync(mail + "\r\n");
        if (rcpt is null)
        {
            await ExpectLineAsync(raw, "555 5.5.4 Unsupported option: no SMTP extensions after HELO");
            await raw.SendAsync("RCPT TO:<alice@localhost>\r\n");
            await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
            return;
        }
        await ExpectLineAsync(raw, "250 2.1.0 Ok");
        await raw.SendAsync(rcpt + "\r\n");
        await ExpectLineAsync(raw, "555 5.5.4 Unsupported option: no SMTP extensions after HELO");
        await raw.SendAsync("DATA\r\n");
        await ExpectLineAsync(raw, "554 5.5.1 Error: no valid recipients");
    }

    [Theory]
    [InlineData("NOTIFY=NEVER,SUCCESS")]
    [InlineData("NOTIFY=SUCCESS,SUCCESS")]
    [InlineData("NOTIFY=")]
    [InlineData("NOTIFY=SOMETIMES")]
    [InlineData("ORCPT=alice@localhost")]
    [InlineData("ORCPT=rfc822;")]
    [InlineData("ORCPT=utf-8;jöran@example.org")] // raw UTF-8 only in an SMTPUTF8 transaction
    public async Task BadRcptDsnParametersAreRefused(string parameter)
    {
        using RawSmtp raw = await OpenAsync(_server);
        await raw.SendAsync("MAIL FROM:<bob@localhost>\r\n");
        await ExpectLineAsync(raw, "250 2.1.0 Ok");
        await raw.SendAsync($"RCPT TO:<alice@localhost> {parameter}\r\n");
        await ExpectLineAsync(raw, "501 5.5.4 Bad parameter value");
        await raw.SendAsync("DATA\r\n");
        await ExpectLineAsync(raw, "554 5.5.1 Error: no valid recipients");
    }

    [Fact]
    public async Task MailAndRcptLinesMayGrowByTheDsnParametersAndNoFurther()
    {
        // RFC 3461 §5: MAIL may be 100 octets longer than 512 for ENVID, RCPT 500 longer for ORCPT (CRLF counted).
        string envelopeId = new('e', 100);
        string orcpt = "rfc822;" + new string('o', 493);
        static string Padded(string head, string parameters, int octets) =>
            head + new string(' ', octets - 2 - head.Length - parameters.Length) + parameters + "\r\n";
        string mail612 = Padded("MAIL FROM:<bob@localhost>", $" ENVID={envelopeId}", 612);
        string rcpt1012 = Padded("RCPT TO:<alice@localhost>", $" NOTIFY=SUCCESS ORCPT={orcpt}", 1012);
        Assert.Equal((612, 1012), (Encoding.ASCII.GetByteCount(mail612), Encoding.ASCII.GetByteCount(rcpt1012)));

        string id;
        using (RawSmtp raw = await OpenAsync(_server))
        {
            await raw.SendAsync(" " + mail612);
            await ExpectLineAsync(raw, "500 5.5.2 Error: line too long");
            await raw.SendAsync("RCPT TO:<alice@localhost>\r\n");
            await ExpectLineAsync(raw, "503 5.5.1 Error: need MAIL command");
            await raw.SendAsync(mail612);
            await ExpectLineAsync(raw, "250 2.1.0 Ok");
            await raw.SendAsync(rcpt1012.Replace("RCPT TO:", "RCPT TO: "));
            await ExpectLineAsync(raw, "500 5.5.2 Error: line too long");
            await raw.SendAsync("DATA\r\n");
            await ExpectLineAsync(raw, "503 5.5.1 Error: need RCPT command");
            await raw.SendAsync("RSET\r\n");
            await ExpectLineAsync(raw, "250 2.0.0 Ok");
            id = await TransactAsync(raw, mail612.TrimEnd('\r', '\n'), rcpt1012.TrimEnd('\r', '\n'), "longest lines");
        }

        Assert.Equal("longest lines", Assert.Single(await _server.DeliveredAsync("alice", 1)).Message.Subject);
        ReceivedDsn dsn = ReceivedDsn.Read(Assert.Single(await _server.DeliveredAsync("bob", 1)).Message);
        Assert.Equal(id, dsn.OriginalId);
        Assert.Equal(envelopeId, dsn.PerMessage["Original-Envelope-Id"]);
        Assert.Equal(orcpt, dsn.Recipient["Original-Recipient"]);
        Assert.Equal("delivered", dsn.Recipient["Action"]);
    }
}
