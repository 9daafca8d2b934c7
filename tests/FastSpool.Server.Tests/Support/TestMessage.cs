using MimeKit;

namespace FastSpool.Server.Tests.Support;

/// <summary>Plain-text messages for the end-to-end tests.</summary>
internal static class TestMessage
{
    public static MimeMessage Create(string subject, string body = "hello\n", string to = "alice@localhost", string from = "bob@example.org")
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("example.org");
        message.Body = new TextPart("plain") { Text = body };
        return message;
    }
}
