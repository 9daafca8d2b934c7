using System.Text.RegularExpressions;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using static FastSpool.Server.Tests.Support.SmtpDialog;

namespace FastSpool.Server.Tests;

/// <summary>Whatever the envelope sender, the mbox stays readable by every reader and its <c>From </c> lines cannot
/// be forged: the sender there is one ASCII token, and <c>Return-Path:</c> keeps it whole.</summary>
public sealed partial class MboxFromLineTests
{
    private const string SpacedSender = "\"a b  Mon Jan  1 00:00:00 2024\"@example.test";
    private const string Utf8Sender = "jörg@bücher.example";

    [GeneratedRegex(@"^From (?<sender>\S+)  (?<date>\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d (?<year>\d{4}))$")]
    private static partial Regex FromLine();

    [Fact]
    public async Task OddSendersKeepTheMboxReadableByMimeKitAndPythonAndStayWholeInReturnPath()
    {
        await using TestServer server = await TestServer.StartAsync();
        using (RawSmtp raw = await OpenAsync(server))
        {
            await SendRawAsync(raw, SpacedSender, "spaced");
            await SendRawAsync(raw, "", "null sender");
        }
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
            Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.UTF8));
            // MailKit says SMTPUTF8 on MAIL for a non-ASCII address.
            await client.SendAsync(TestMessage.Create("utf8", from: Utf8Sender), MailboxAddress.Parse(Utf8Sender), [MailboxAddress.Parse("alice@localhost")]);
            await client.DisconnectAsync(true);
        }

        List<(string Marker, MimeMessage Message)> delivered = await server.DeliveredAsync("alice", 3);
        (string Subject, string Token, string ReturnPath)[] expected =
        [
            ("spaced", "\"a_b__Mon_Jan__1_00:00:00_2024\"@example.test", $"<{SpacedSender}>"),
            ("null sender", "MAILER-DAEMON", "<>"),
            ("utf8", "j_rg@b_cher.example", $"<{Utf8Sender}>"),
        ];
        string thisYear = DateTime.Now.Year.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (int i = 0; i < expected.Length; i++)
        {
            (string marker, MimeMessage message) = delivered[i];
            Match from = FromLine().Match(marker);
            Assert.True(from.Success, $"not one sender token and a date: '{marker}'");
            Assert.Equal(expected[i].Token, from.Groups["sender"].Value);
            Assert.Equal(thisYear, from.Groups["year"].Value);
            Assert.Equal(expected[i].Subject, message.Subject);
            Assert.Equal(expected[i].ReturnPath, message.Headers[HeaderId.ReturnPath]);
        }

        const string script = """
            import mailbox, sys
            box = mailbox.mbox(sys.argv[1])
            for key in box.keys():
                m = box[key]
                path = [l for l in box.get_bytes(key).split(b'\n') if l.startswith(b'Return-Path: ')][0]
                print(m['Subject'] + '|' + m.get_from().split('  ')[0] + '|' + path[13:].decode('utf-8'))
            """;
        Assert.Equal(
            expected.Select(e => $"{e.Subject}|{e.Token}|{e.ReturnPath}"),
            await PythonMailbox.RunAsync(script, server.MailboxPath("alice")));
    }

    private static async Task SendRawAsync(RawSmtp raw, string sender, string subject)
    {
        await raw.SendAsync($"MAIL FROM:<{sender}>\r\nRCPT TO:<alice@localhost>\r\nDATA\r\n");
        await ExpectLineAsync(raw, "250 2.1.0 Ok");
        await ExpectLineAsync(raw, "250 2.1.5 Ok");
        await ExpectLineAsync(raw, "354 End data with <CR><LF>.<CR><LF>");
        await raw.SendAsync($"Subject: {subject}\r\n\r\nbody\r\n.\r\n");
        await raw.ExpectAsync("250 2.0.0 Ok: queued as ");
    }
}
