using System.Text;
using FastSpool.Delivery.Bounces;
using FastSpool.Delivery.Tests.Support;
using MimeKit;
using MimeKit.Utils;

namespace FastSpool.Delivery.Tests.Bounces;

public sealed class DsnBuilderTests
{
    private const string Host = "mx.example.net";
    private const string QueueId = "0193A4F2C51D7";
    private const string BodyMarker = "Body-Marker-7f3a";

    private static readonly DateTimeOffset Arrival = new(2025, 1, 6, 9, 15, 2, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = new(2025, 1, 6, 13, 15, 40, TimeSpan.FromHours(1));
    private static readonly DateTimeOffset LastTry = new(2025, 1, 6, 12, 14, 59, TimeSpan.Zero);

    private static readonly string OriginalHeaders =
        "Received: from client.example.com (client.example.com [192.0.2.7])\r\n"
        + "\tby mx.example.net (FastSpool) with ESMTPS id 0193A4F2C51D7\r\n"
        + "\tfor <bob@example.org>; Mon, 6 Jan 2025 09:15:02 +0000\r\n"
        + "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=s1;\r\n"
        + "\th=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
        + "\tb=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSbav+yuU4zGeeruD00lszZVoG4ZHRNiYzR\r\n"
        + "From: Alice Example <alice@example.com>\r\n"
        + "To: Bob <bob@example.org>, carol@example.org\r\n"
        + "Subject: =?utf-8?q?Quarterly_report_=E2=80=93_draft?=\r\n"
        + "Date: Mon, 6 Jan 2025 09:15:00 +0000\r\n"
        + "Message-ID: <20250106091500.4711@client.example.com>\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: multipart/alternative; boundary=\"b1_a7f3\"\r\n";

    private static readonly string OriginalBody =
        "This is a multi-part message in MIME format.\r\n"
        + "\r\n"
        + "--b1_a7f3\r\n"
        + "Content-Type: text/plain; charset=us-ascii\r\n"
        + "\r\n"
        + "Hi Bob, the draft is below. " + BodyMarker + "\r\n"
        + "--b1_a7f3\r\n"
        + "Content-Type: text/html; charset=us-ascii\r\n"
        + "\r\n"
        + "<p>Hi Bob, the draft is below.</p>\r\n"
        + "--b1_a7f3--\r\n";

    private static readonly byte[] Original = Encoding.ASCII.GetBytes(OriginalHeaders + "\r\n" + OriginalBody);

    private static readonly DsnRecipient RemoteFailure = new()
    {
        FinalRecipient = "bob@example.org",
        OriginalRecipient = "rfc822;bob@example.org",
        Action = DsnAction.Failed,
        Status = "5.1.1",
        DiagnosticCode = "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown",
        RemoteMta = "mx1.example.org",
        LastAttempt = LastTry,
        HumanReason = "host mx1.example.org[198.51.100.4] said: 550 5.1.1 <bob@example.org>: Recipient address "
            + "rejected: User unknown (in reply to RCPT TO command)",
    };

    private static readonly DsnRecipient LocalFailure = new()
    {
        FinalRecipient = "carol@example.org",
        Action = DsnAction.Failed,
        Status = "5.2.0",
        DiagnosticCode = "mailbox /var/mail/carol is a symbolic link",
        HumanReason = "mailbox /var/mail/carol is a symbolic link",
    };

    private static readonly DsnRecipient Delayed = new()
    {
        FinalRecipient = "dave@example.org",
        Action = DsnAction.Delayed,
        Status = "4.4.1",
        DiagnosticCode = "connect to mx1.example.org[198.51.100.4]:25: Connection timed out",
        RemoteMta = "mx1.example.org",
        LastAttempt = LastTry,
        HumanReason = "connect to mx1.example.org[198.51.100.4]:25: Connection timed out",
    };

    private static DsnRequest Request(params DsnRecipient[] recipients) => new()
    {
        ReportingMta = Host,
        OriginalQueueId = QueueId,
        ArrivalDate = Arrival,
        OriginalSender = "alice@example.com",
        Date = Now,
        Recipients = recipients,
        Recipient = "alice@example.com",
    };

    [Fact]
    public void FailureNoticeIsAMultipartReportOfDeliveryStatusWithThreeParts()
    {
        MimeMessage dsn = BuildAndReload(Request(RemoteFailure));

        MultipartReport report = Assert.IsType<MultipartReport>(dsn.Body);
        Assert.Equal("multipart/report", report.ContentType.MimeType);
        Assert.Equal("delivery-status", report.ContentType.Parameters["report-type"]);
        Assert.Equal("delivery-status", report.ReportType);
        Assert.Equal(3, report.Count);
        Assert.Equal("text/plain", report[0].ContentType.MimeType);
        Assert.IsType<MessageDeliveryStatus>(report[1]);
        Assert.IsType<TextRfc822Headers>(report[2]);
        Assert.Equal("Notification", report[0].Headers[HeaderId.ContentDescription]);
        Assert.Equal("Delivery report", report[1].Headers[HeaderId.ContentDescription]);
        Assert.Equal("Undelivered Message Headers", report[2].Headers[HeaderId.ContentDescription]);
    }

    [Fact]
    public void NoticeComesFromTheMailerDaemonAndIsMarkedAutoReplied()
    {
        MimeMessage dsn = BuildAndReload(Request(RemoteFailure));

        MailboxAddress from = Assert.IsType<MailboxAddress>(Assert.Single(dsn.From));
        Assert.Equal("Mail Delivery System", from.Name);
        Assert.Equal("MAILER-DAEMON@mx.example.net", from.Address);
        Assert.Equal("alice@example.com", Assert.IsType<MailboxAddress>(Assert.Single(dsn.To)).Address);
        Assert.Equal("auto-replied", dsn.Headers["Auto-Submitted"]);
        Assert.Equal("Undelivered Mail Returned to Sender", dsn.Subject);
        Assert.Equal(Now, dsn.Date);
        Assert.Equal("1.0", dsn.Headers[HeaderId.MimeVersion]);
        Assert.StartsWith("20250106121540." + QueueId + ".", dsn.MessageId, StringComparison.Ordinal);
        Assert.EndsWith("@" + Host, dsn.MessageId, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryNoticeGetsItsOwnMessageId()
    {
        DsnRequest request = Request(RemoteFailure);

        Assert.NotEqual(
            DsnBuilder.Build(request, new MemoryStream(Original)).MessageId,
            DsnBuilder.Build(request, new MemoryStream(Original)).MessageId);
    }

    [Fact]
    public void PerMessageFieldsNameTheReportingMtaQueueIdArrivalAndSender()
    {
        MimeMessage dsn = BuildAndReload(Request(RemoteFailure) with
        {
            EnvelopeId = "QQ314159",
            ReceivedFromMta = "192.0.2.7",
        });

        HeaderList fields = StatusGroups(dsn)[0];
        Assert.Equal(
            ["Original-Envelope-Id", "Reporting-MTA", "Received-From-MTA", "Arrival-Date", "X-FastSpool-Queue-ID", "X-FastSpool-Sender"],
            FieldNames(fields));
        Assert.Equal("QQ314159", fields["Original-Envelope-Id"]);
        Assert.Equal("dns; mx.example.net", fields["Reporting-MTA"]);
        Assert.Equal("dns; [192.0.2.7]", fields["Received-From-MTA"]);
        Assert.Equal(Arrival, ParseDate(fields["Arrival-Date"]));
        Assert.Equal(QueueId, fields["X-FastSpool-Queue-ID"]);
        Assert.Equal("rfc822; alice@example.com", fields["X-FastSpool-Sender"]);
    }

    [Fact]
    public void OptionalPerMessageFieldsAreLeftOutWhenNotGiven()
    {
        HeaderList fields = StatusGroups(BuildAndReload(Request(RemoteFailure)))[0];

        Assert.Equal(["Reporting-MTA", "Arrival-Date", "X-FastSpool-Queue-ID", "X-FastSpool-Sender"], FieldNames(fields));
    }

    [Theory]
    [InlineData("2001:db8::7", "dns; [IPv6:2001:db8::7]")]
    [InlineData("client.example.com", "dns; client.example.com")]
    public void ReceivedFromMtaWritesAddressesAsLiterals(string client, string expected)
    {
        HeaderList fields = StatusGroups(BuildAndReload(Request(RemoteFailure) with { ReceivedFromMta = client }))[0];

        Assert.Equal(expected, fields["Received-From-MTA"]);
    }

    [Fact]
    public void PerRecipientFieldsDescribeEachFailure()
    {
        HeaderListCollection groups = StatusGroups(BuildAndReload(Request(RemoteFailure, LocalFailure)));

        Assert.Equal(3, groups.Count);
        HeaderList remote = groups[1];
        Assert.Equal(
            ["Original-Recipient", "Final-Recipient", "Action", "Status", "Remote-MTA", "Diagnostic-Code", "Last-Attempt-Date"],
            FieldNames(remote));
        Assert.Equal("rfc822;bob@example.org", remote["Original-Recipient"]);
        Assert.Equal("rfc822; bob@example.org", remote["Final-Recipient"]);
        Assert.Equal("failed", remote["Action"]);
        Assert.Equal("5.1.1", remote["Status"]);
        Assert.Equal("dns; mx1.example.org", remote["Remote-MTA"]);
        Assert.Equal("smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown", remote["Diagnostic-Code"]);
        Assert.Equal(LastTry, ParseDate(remote["Last-Attempt-Date"]));

        HeaderList local = groups[2];
        Assert.Equal(["Final-Recipient", "Action", "Status", "Diagnostic-Code"], FieldNames(local));
        Assert.Equal("rfc822; carol@example.org", local["Final-Recipient"]);
        Assert.Equal("failed", local["Action"]);
        Assert.Equal("5.2.0", local["Status"]);
        Assert.Equal("X-FastSpool; mailbox /var/mail/carol is a symbolic link", local["Diagnostic-Code"]);
    }

    [Fact]
    public void FailureTextExplainsAndListsEachRecipient()
    {
        string text = HumanText(BuildAndReload(Request(RemoteFailure, LocalFailure with { OriginalRecipient = "rfc822;c@example.org" })));

        Assert.StartsWith("This is the mail system at host mx.example.net.\r\n\r\nI'm sorry to have to inform you", text, StringComparison.Ordinal);
        Assert.Contains("The header section of your message is attached below.", Unwrapped(text), StringComparison.Ordinal);
        Assert.Contains("For further assistance, please send mail to postmaster.", Unwrapped(text), StringComparison.Ordinal);
        Assert.Contains("If you do so, please include this problem report.", Unwrapped(text), StringComparison.Ordinal);
        Assert.Contains("\r\n                   The mail system\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\n<bob@example.org>: " + RemoteFailure.HumanReason + "\r\n", text, StringComparison.Ordinal);
        Assert.Contains(
            "\r\n<carol@example.org> (expanded from <c@example.org>): mailbox /var/mail/carol is a symbolic link\r\n",
            text,
            StringComparison.Ordinal);
        Assert.DoesNotContain("WARNING", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AsciiHumanTextIsSentAsSevenBitUsAscii()
    {
        TextPart part = Assert.IsType<TextPart>(Report(BuildAndReload(Request(RemoteFailure)))[0]);

        Assert.Equal("us-ascii", part.ContentType.Charset);
        Assert.Equal(ContentEncoding.SevenBit, part.ContentTransferEncoding);
    }

    [Fact]
    public void PostmasterCanBeNamedInTheText()
    {
        string text = HumanText(BuildAndReload(Request(RemoteFailure) with { Postmaster = "help@example.net" }));

        Assert.Contains("please send mail to help@example.net.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void HeadersPartHoldsExactlyTheOriginalHeaderSectionAndNoBody()
    {
        byte[] rendered = DsnBuilder.Render(DsnBuilder.Build(Request(RemoteFailure), new MemoryStream(Original)));
        MimeMessage dsn = MimeMessage.Load(new MemoryStream(rendered));

        TextRfc822Headers headers = Assert.IsType<TextRfc822Headers>(Report(dsn)[2]);
        Assert.Equal(OriginalHeaders + "\r\n", Content(headers));
        Assert.NotNull(headers.Message);
        Assert.Equal("Quarterly report – draft", headers.Message.Subject);
        Assert.Equal("20250106091500.4711@client.example.com", headers.Message.MessageId);
        Assert.DoesNotContain(BodyMarker, Encoding.ASCII.GetString(rendered), StringComparison.Ordinal);
        Assert.DoesNotContain("8bit", headers.Headers[HeaderId.ContentTransferEncoding] ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public void RetFullReturnsTheWholeMessage()
    {
        MimeMessage dsn = BuildAndReload(Request(RemoteFailure) with { ReturnFullMessage = true });

        MessagePart part = Assert.IsType<MessagePart>(Report(dsn)[2]);
        Assert.IsNotType<TextRfc822Headers>(part);
        Assert.Equal("message/rfc822", part.ContentType.MimeType);
        Assert.Equal("Undelivered Message", part.Headers[HeaderId.ContentDescription]);
        Assert.Equal(Encoding.ASCII.GetString(Original), Content(part));
        Assert.Contains("It's attached below.", HumanText(dsn), StringComparison.Ordinal);
    }

    [Fact]
    public void RetFullFromAStreamThatCannotSeekReturnsTheWholeMessage()
    {
        DsnRequest request = Request(RemoteFailure) with { ReturnFullMessage = true };
        MimeMessage dsn = Reload(DsnBuilder.Build(request, new ForwardOnlyStream(Original, mostPerRead: 7)));

        Assert.Equal(Encoding.ASCII.GetString(Original), Content(Assert.IsType<MessagePart>(Report(dsn)[2])));
    }

    [Fact]
    public void RetFullOverTheSizeLimitFallsBackToTheHeaders()
    {
        DsnRequest request = Request(RemoteFailure) with { ReturnFullMessage = true, MaxReturnedSize = Original.Length - 1 };

        foreach (Stream original in new Stream[] { new MemoryStream(Original), new ForwardOnlyStream(Original, mostPerRead: 5) })
        {
            MimeMessage dsn = Reload(DsnBuilder.Build(request, original));

            TextRfc822Headers headers = Assert.IsType<TextRfc822Headers>(Report(dsn)[2]);
            Assert.Equal(OriginalHeaders + "\r\n", Content(headers));
            Assert.Contains("The header section of your message is attached below.", Unwrapped(HumanText(dsn)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void HeadersAreFoundInAStreamThatTricklesInAtAnyReadSize()
    {
        for (int mostPerRead = 1; mostPerRead <= 9; mostPerRead++)
        {
            MimeMessage dsn = Reload(DsnBuilder.Build(Request(RemoteFailure), new ForwardOnlyStream(Original, mostPerRead)));

            Assert.Equal(OriginalHeaders + "\r\n", Content(Assert.IsType<TextRfc822Headers>(Report(dsn)[2])));
        }
    }

    [Fact]
    public void RetFullExactlyAtTheSizeLimitIsReturnedWhole()
    {
        DsnRequest request = Request(RemoteFailure) with { ReturnFullMessage = true, MaxReturnedSize = Original.Length };

        MimeMessage dsn = BuildAndReload(request);

        Assert.IsNotType<TextRfc822Headers>(Assert.IsType<MessagePart>(Report(dsn)[2]));
    }

    [Fact]
    public void OriginalIsReadFromTheStreamsCurrentPosition()
    {
        var stored = new MemoryStream();
        stored.Write("queue record header\r\n"u8);
        stored.Write(Original);
        stored.Position = "queue record header\r\n".Length;

        MimeMessage dsn = Reload(DsnBuilder.Build(Request(RemoteFailure) with { ReturnFullMessage = true }, stored));

        Assert.Equal(Encoding.ASCII.GetString(Original), Content(Assert.IsType<MessagePart>(Report(dsn)[2])));
    }

    [Fact]
    public void DelayNoticeWarnsSaysForHowLongAndUntilWhenAndCarriesWillRetryUntil()
    {
        DsnRequest request = Request(Delayed) with
        {
            DelayedFor = TimeSpan.FromHours(4),
            RetryLifetime = TimeSpan.FromDays(5),
            ReturnFullMessage = true,
        };

        MimeMessage dsn = BuildAndReload(request);

        Assert.Equal("Delayed Mail (still being retried)", dsn.Subject);
        string text = HumanText(dsn);
        string box = new('#', 68);
        Assert.StartsWith(
            "This is the mail system at host mx.example.net.\r\n\r\n" + box
            + "\r\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n" + box + "\r\n\r\n",
            text,
            StringComparison.Ordinal);
        Assert.Contains("could not be delivered for 4 hours", Unwrapped(text), StringComparison.Ordinal);
        Assert.Contains("until Sat, 11 Jan 2025 09:15:02 +0000 (5 days after it arrived)", Unwrapped(text), StringComparison.Ordinal);
        Assert.Contains("\r\n<dave@example.org>: " + Delayed.HumanReason + "\r\n", text, StringComparison.Ordinal);

        HeaderList fields = StatusGroups(dsn)[1];
        Assert.Equal(
            ["Final-Recipient", "Action", "Status", "Remote-MTA", "Diagnostic-Code", "Last-Attempt-Date", "Will-Retry-Until"],
            FieldNames(fields));
        Assert.Equal("delayed", fields["Action"]);
        Assert.Equal("4.4.1", fields["Status"]);
        Assert.Equal(Arrival + TimeSpan.FromDays(5), ParseDate(fields["Will-Retry-Until"]));

        // RFC 3461 §4.3: RET=FULL is for failures; a warning returns the headers.
        TextRfc822Headers headers = Assert.IsType<TextRfc822Headers>(Report(dsn)[2]);
        Assert.Equal("Delayed Message Headers", headers.Headers[HeaderId.ContentDescription]);
        Assert.Equal(OriginalHeaders + "\r\n", Content(headers));
    }

    [Fact]
    public void DelayNoticeTakesTheRecipientsOwnRetryDeadlineAndCountsTheDelayFromArrival()
    {
        DateTimeOffset until = new(2025, 1, 9, 0, 0, 0, TimeSpan.Zero);

        MimeMessage dsn = BuildAndReload(Request(Delayed with { WillRetryUntil = until }));

        Assert.Equal(until, ParseDate(StatusGroups(dsn)[1]["Will-Retry-Until"]));
        string text = Unwrapped(HumanText(dsn));
        Assert.Contains("could not be delivered for 3 hours", text, StringComparison.Ordinal);
        Assert.Contains("until Thu, 09 Jan 2025 00:00:00 +0000,", text, StringComparison.Ordinal);
    }

    [Fact]
    public void SuccessNoticeReportsEachDestinationWithoutRetryFields()
    {
        DsnRecipient delivered = new()
        {
            FinalRecipient = "bob@example.org",
            Action = DsnAction.Delivered,
            Status = "2.0.0",
            HumanReason = "delivered to mailbox",
        };
        DsnRecipient relayed = delivered with
        {
            FinalRecipient = "erin@example.org",
            Action = DsnAction.Relayed,
            RemoteMta = "mx1.example.org",
            DiagnosticCode = "250 2.0.0 Ok: queued as 4Yx1",
            HumanReason = "delivery via mx1.example.org[198.51.100.4]:25: 250 2.0.0 Ok: queued as 4Yx1",
        };
        DsnRecipient expanded = delivered with { FinalRecipient = "team@example.org", Action = DsnAction.Expanded, HumanReason = "alias expanded" };

        MimeMessage dsn = BuildAndReload(Request(delivered, relayed, expanded) with { ReturnFullMessage = true });

        Assert.Equal("Successful Mail Delivery Report", dsn.Subject);
        HeaderListCollection groups = StatusGroups(dsn);
        Assert.Equal("delivered relayed expanded", $"{groups[1]["Action"]} {groups[2]["Action"]} {groups[3]["Action"]}");
        Assert.Equal("2.0.0", groups[1]["Status"]);
        Assert.Equal("smtp; 250 2.0.0 Ok: queued as 4Yx1", groups[2]["Diagnostic-Code"]);
        Assert.Null(groups[1]["Will-Retry-Until"]);
        string text = HumanText(dsn);
        Assert.Contains("Your message was delivered to the destinations listed below.", Unwrapped(text), StringComparison.Ordinal);
        Assert.Contains("\r\n<erin@example.org>: " + relayed.HumanReason + "\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("I'm sorry", text, StringComparison.Ordinal);
        Assert.Equal("Delivered Message Headers", Report(dsn)[2].Headers[HeaderId.ContentDescription]);
    }

    [Fact]
    public void NoticeAboutANullSenderMessageGoesToThePostmasterWithoutASenderField()
    {
        byte[] bounce = Encoding.ASCII.GetBytes(
            "From: Mail Delivery System <MAILER-DAEMON@elsewhere.example>\r\nTo: alice@example.com\r\n"
            + "Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n\r\nbody\r\n");
        DsnRequest request = Request(RemoteFailure) with { OriginalSender = "", Recipient = "postmaster@mx.example.net" };

        MimeMessage dsn = Reload(DsnBuilder.Build(request, new MemoryStream(bounce)));

        Assert.Equal("postmaster@mx.example.net", Assert.IsType<MailboxAddress>(Assert.Single(dsn.To)).Address);
        HeaderList fields = StatusGroups(dsn)[0];
        Assert.Null(fields["X-FastSpool-Sender"]);
        Assert.Equal(QueueId, fields["X-FastSpool-Queue-ID"]);
        Assert.Equal(
            "From: Mail Delivery System <MAILER-DAEMON@elsewhere.example>\r\nTo: alice@example.com\r\n"
            + "Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n\r\n",
            Content(Assert.IsType<TextRfc822Headers>(Report(dsn)[2])));
    }

    [Fact]
    public void NonAsciiRecipientIsWrittenWithTheUtf8AddressTypeInSevenBitForm()
    {
        DsnRecipient recipient = RemoteFailure with
        {
            FinalRecipient = "søren+x@exämple.org",
            OriginalRecipient = "utf-8;søren+x@exämple.org",
            HumanReason = "host mx1.example.org said: 550 5.1.1 no mailbox for søren",
        };
        byte[] original = Encoding.UTF8.GetBytes(
            "From: Søren <søren@exämple.org>\r\nTo: søren+x@exämple.org\r\nSubject: hej\r\n\r\nblåbærgrød\r\n");
        DsnRequest request = Request(recipient) with { ReturnFullMessage = true };

        byte[] rendered = DsnBuilder.Render(DsnBuilder.Build(request, new MemoryStream(original)));
        MimeMessage dsn = MimeMessage.Load(new MemoryStream(rendered));

        HeaderList fields = StatusGroups(dsn)[1];
        Assert.Equal(@"utf-8; s\x{F8}ren\x{2B}x@ex\x{E4}mple.org", fields["Final-Recipient"]);
        Assert.Equal(@"utf-8;s\x{F8}ren\x{2B}x@ex\x{E4}mple.org", fields["Original-Recipient"]);
        Assert.True(Encoding.ASCII.GetString(rendered).Contains(@"Final-Recipient: utf-8; s\x{F8}ren\x{2B}x@ex\x{E4}mple.org", StringComparison.Ordinal));

        TextPart text = Assert.IsType<TextPart>(Report(dsn)[0]);
        Assert.Equal("utf-8", text.ContentType.Charset);
        Assert.Equal(ContentEncoding.QuotedPrintable, text.ContentTransferEncoding);
        Assert.Contains("\n<søren+x@exämple.org>: host mx1.example.org said: 550 5.1.1 no mailbox for søren", text.Text, StringComparison.Ordinal);

        // The returned message keeps its UTF-8 as it came, labelled 8bit, and so does the report around it.
        MessagePart returned = Assert.IsType<MessagePart>(Report(dsn)[2]);
        Assert.Equal("8bit", returned.Headers[HeaderId.ContentTransferEncoding]);
        Assert.Equal("8bit", Report(dsn).Headers[HeaderId.ContentTransferEncoding]);
        Assert.Equal(Encoding.UTF8.GetString(original), Content(returned));
    }

    [Fact]
    public void AsciiOriginalLeavesTheReportWithoutAnEncodingLabel()
    {
        MimeMessage dsn = BuildAndReload(Request(RemoteFailure) with { ReturnFullMessage = true });

        Assert.Null(Report(dsn).Headers[HeaderId.ContentTransferEncoding]);
        Assert.Null(Report(dsn)[2].Headers[HeaderId.ContentTransferEncoding]);
    }

    public static TheoryData<string, byte[]> GarbageOriginals()
    {
        var random = new Random(20250106);
        byte[] noise = new byte[5000];
        random.NextBytes(noise);
        return new TheoryData<string, byte[]>
        {
            { "empty", [] },
            { "random bytes", noise },
            { "no header at all", "just some text\r\nand more\r\n"u8.ToArray() },
            { "field without a name", ": value\r\nSubject: x\r\n\r\nbody\r\n"u8.ToArray() },
            { "continuation first", " folded\r\nSubject: x\r\n\r\n"u8.ToArray() },
            { "nul bytes", "Subject: a\0b\r\n\r\n\0\0\0"u8.ToArray() },
            { "a 5000-octet line", Encoding.ASCII.GetBytes(new string('x', 5000) + "\r\n") },
            { "only a blank line", "\r\n"u8.ToArray() },
            { "broken multipart", "Content-Type: multipart/mixed; boundary=\"\r\n\r\n--\r\n--\r\n"u8.ToArray() },
        };
    }

    [Theory]
    [MemberData(nameof(GarbageOriginals))]
    public void GarbageOriginalStillYieldsANotice(string what, byte[] original)
    {
        foreach (bool full in new[] { false, true })
        {
            byte[] rendered = DsnBuilder.Render(DsnBuilder.Build(Request(RemoteFailure) with { ReturnFullMessage = full }, new MemoryStream(original)));
            MimeMessage dsn = MimeMessage.Load(new MemoryStream(rendered));

            AssertSmtpText(rendered);
            Assert.Equal("failed", StatusGroups(dsn)[1]["Action"]);
            Assert.True(Report(dsn).Count is 2 or 3, what);
            if (Report(dsn).Count == 2)
                Assert.Contains("could not be read back, so it is not attached", Unwrapped(HumanText(dsn)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void HeaderSectionEndsAtTheFirstLineThatIsNoHeader()
    {
        byte[] original = "Subject: kept\r\nX-Folded: a\r\n b\r\nthis is not a field\r\nX-After: dropped\r\n\r\nbody\r\n"u8.ToArray();

        MimeMessage dsn = BuildAndReload(Request(RemoteFailure), original);

        Assert.Equal("Subject: kept\r\nX-Folded: a\r\n b\r\n\r\n", Content(Assert.IsType<TextRfc822Headers>(Report(dsn)[2])));
    }

    [Fact]
    public void GarbageWithoutAnyHeaderIsLeftOut()
    {
        MimeMessage dsn = BuildAndReload(Request(RemoteFailure), "no header at all\r\n"u8.ToArray());

        Assert.Equal(2, Report(dsn).Count);
        string text = Unwrapped(HumanText(dsn));
        Assert.Contains("could not be read back, so it is not attached.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("attached returned message", text, StringComparison.Ordinal);
    }

    [Fact]
    public void MessageWithAnOverlongLineIsReturnedByItsHeadersOnly()
    {
        byte[] original = Encoding.ASCII.GetBytes("Subject: long\r\n\r\n" + new string('y', 1200) + "\r\n");

        MimeMessage dsn = BuildAndReload(Request(RemoteFailure) with { ReturnFullMessage = true }, original);

        Assert.Equal("Subject: long\r\n\r\n", Content(Assert.IsType<TextRfc822Headers>(Report(dsn)[2])));
    }

    [Fact]
    public void EveryRenderedLineEndsInCrlfAndFitsIn998Octets()
    {
        string longReply = "550 5.7.1 " + new string('z', 3000) + " " + string.Join(' ', Enumerable.Repeat("word", 400));
        DsnRecipient failure = RemoteFailure with { DiagnosticCode = longReply, HumanReason = longReply };
        DsnRecipient delay = Delayed with { DiagnosticCode = longReply, HumanReason = longReply };
        DsnRecipient success = failure with { Action = DsnAction.Relayed, Status = "2.0.0" };

        foreach (DsnRequest request in new[] { Request(failure) with { ReturnFullMessage = true }, Request(delay), Request(success) })
        {
            byte[] rendered = DsnBuilder.Render(DsnBuilder.Build(request, new MemoryStream(Original)));

            AssertSmtpText(rendered);
            Assert.True(Ascii.IsValid(rendered));
            MimeMessage dsn = MimeMessage.Load(new MemoryStream(rendered));
            // Folding is undone by unfolding; a run of 3000 octets is cut into pieces that a reader sees spaced.
            string? diagnostic = StatusGroups(dsn)[1]["Diagnostic-Code"];
            Assert.NotNull(diagnostic);
            Assert.Equal("smtp; " + longReply, diagnostic.Replace(new string('z', 900) + " ", new string('z', 900), StringComparison.Ordinal));
            Assert.Contains(longReply, HumanText(dsn), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void WriteToWritesWhatRenderReturns()
    {
        MimeMessage dsn = DsnBuilder.Build(Request(RemoteFailure), new MemoryStream(Original));
        var written = new MemoryStream();

        DsnBuilder.WriteTo(dsn, written);

        Assert.Equal(DsnBuilder.Render(dsn), written.ToArray());
    }

    [Fact]
    public void LineBreaksInGivenValuesCannotStartNewFields()
    {
        DsnRecipient sneaky = RemoteFailure with
        {
            DiagnosticCode = "550 first line\r\nAction: delivered\r\n\r\nFinal-Recipient: rfc822; x@y",
            HumanReason = "two\r\nlines",
        };

        MimeMessage dsn = BuildAndReload(Request(sneaky) with { EnvelopeId = "id\r\nX-Injected: 1" });

        HeaderListCollection groups = StatusGroups(dsn);
        Assert.Equal(2, groups.Count);
        Assert.Equal("failed", groups[1]["Action"]);
        Assert.Equal("smtp; 550 first line Action: delivered Final-Recipient: rfc822; x@y", groups[1]["Diagnostic-Code"]);
        Assert.Null(groups[0]["X-Injected"]);
        Assert.Contains("\r\n<bob@example.org>: two lines\r\n", HumanText(dsn), StringComparison.Ordinal);
    }

    // A second reader besides MimeKit: Python's email package splits message/delivery-status into its groups.
    [Python3Fact]
    public void PythonsEmailPackageReadsTheSameReport()
    {
        const string Script = """
            import sys, email
            from email import policy
            with open(sys.argv[1], 'rb') as f:
                m = email.message_from_binary_file(f, policy=policy.compat32)
            parts = m.get_payload()
            print(m.get_content_type(), m.get_param('report-type'), ' '.join(p.get_content_type() for p in parts))
            for group in parts[1].get_payload():
                print('|'.join(k + ': ' + ' '.join(v.split()) for k, v in group.items()))
            """;
        using var directory = new TempDirectory();
        string path = directory.Combine("dsn.eml");
        File.WriteAllBytes(path, DsnBuilder.Render(DsnBuilder.Build(Request(RemoteFailure, LocalFailure), new MemoryStream(Original))));

        (int exitCode, string output) = Tool.Run("python3", "-c", Script, path);

        Assert.True(exitCode == 0, output);
        Assert.Equal(
            "multipart/report delivery-status text/plain message/delivery-status text/rfc822-headers\n"
            + "Reporting-MTA: dns; mx.example.net|Arrival-Date: Mon, 06 Jan 2025 09:15:02 +0000|X-FastSpool-Queue-ID: 0193A4F2C51D7|"
            + "X-FastSpool-Sender: rfc822; alice@example.com\n"
            + "Original-Recipient: rfc822;bob@example.org|Final-Recipient: rfc822; bob@example.org|Action: failed|Status: 5.1.1|"
            + "Remote-MTA: dns; mx1.example.org|Diagnostic-Code: smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: "
            + "User unknown|Last-Attempt-Date: Mon, 06 Jan 2025 12:14:59 +0000\n"
            + "Final-Recipient: rfc822; carol@example.org|Action: failed|Status: 5.2.0|"
            + "Diagnostic-Code: X-FastSpool; mailbox /var/mail/carol is a symbolic link\n",
            output);
    }

    [Fact]
    public void RecipientsOfDifferentKindsAreRefused() =>
        Assert.Throws<ArgumentException>(() => DsnBuilder.Build(Request(RemoteFailure, Delayed), new MemoryStream(Original)));

    [Fact]
    public void ARequestWithoutRecipientsIsRefused() =>
        Assert.Throws<ArgumentException>(() => DsnBuilder.Build(Request(), new MemoryStream(Original)));

    [Theory]
    [InlineData("")]
    [InlineData("a b@example.com")]
    public void ANoticeWithoutAnAddressToGoToIsRefused(string recipient) =>
        Assert.Throws<ArgumentException>(() => DsnBuilder.Build(Request(RemoteFailure) with { Recipient = recipient }, new MemoryStream(Original)));

    [Fact]
    public void ABarePostmasterIsAnAddressToGoTo()
    {
        MimeMessage dsn = BuildAndReload(Request(RemoteFailure) with { OriginalSender = "", Recipient = "postmaster" });

        Assert.Equal("postmaster", Assert.IsType<MailboxAddress>(Assert.Single(dsn.To)).Address);
    }

    [Theory]
    [InlineData("550")]
    [InlineData("5.1")]
    [InlineData("3.1.1")]
    [InlineData("5.1.1234")]
    [InlineData("5..1")]
    [InlineData("5.1.x")]
    public void MalformedStatusCodesAreRefused(string status) =>
        Assert.Throws<ArgumentException>(() => DsnBuilder.Build(Request(RemoteFailure with { Status = status }), new MemoryStream(Original)));

    private static MimeMessage BuildAndReload(DsnRequest request) => BuildAndReload(request, Original);

    private static MimeMessage BuildAndReload(DsnRequest request, byte[] original)
    {
        byte[] rendered = DsnBuilder.Render(DsnBuilder.Build(request, new MemoryStream(original)));
        AssertSmtpText(rendered);
        return MimeMessage.Load(new MemoryStream(rendered));
    }

    private static MimeMessage Reload(MimeMessage dsn) => MimeMessage.Load(new MemoryStream(DsnBuilder.Render(dsn)));

    private static MultipartReport Report(MimeMessage dsn) => Assert.IsType<MultipartReport>(dsn.Body);

    private static HeaderListCollection StatusGroups(MimeMessage dsn) =>
        Assert.IsType<MessageDeliveryStatus>(Report(dsn)[1]).StatusGroups;

    private static string[] FieldNames(HeaderList fields) => fields.Select(field => field.Field).ToArray();

    private static DateTimeOffset ParseDate(string? value)
    {
        Assert.NotNull(value);
        Assert.True(DateUtils.TryParse(value, out DateTimeOffset date), value);
        return date;
    }

    private static string HumanText(MimeMessage dsn)
    {
        TextPart part = Assert.IsType<TextPart>(Report(dsn)[0]);
        return part.Text.ReplaceLineEndings("\r\n");
    }

    private static string Unwrapped(string text) => text.Replace("\r\n", " ", StringComparison.Ordinal);

    // What the part carries, as it would go on the wire.
    private static string Content(MessagePart part)
    {
        var bytes = new MemoryStream();
        Assert.NotNull(part.Message);
        part.Message.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, bytes);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static void AssertSmtpText(byte[] rendered)
    {
        int lineStart = 0;
        for (int i = 0; i < rendered.Length; i++)
        {
            if (rendered[i] != (byte)'\n')
                continue;
            Assert.True(i > 0 && rendered[i - 1] == (byte)'\r', $"bare LF at offset {i}");
            Assert.True(i - 1 - lineStart <= 998, $"line of {i - 1 - lineStart} octets at offset {lineStart}");
            lineStart = i + 1;
        }
        Assert.Equal(rendered.Length, lineStart);
    }
}
