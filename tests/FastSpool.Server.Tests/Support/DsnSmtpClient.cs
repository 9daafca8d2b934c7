using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace FastSpool.Server.Tests.Support;

/// <summary>MailKit's SMTP client with the RFC 3461 parameters chosen per test: NOTIFY for every recipient, ENVID,
/// and RET through <see cref="SmtpClient.DeliveryStatusNotificationType"/>.</summary>
internal sealed class DsnSmtpClient : SmtpClient
{
    public DeliveryStatusNotification? Notify { get; set; }

    public string? EnvelopeId { get; set; }

    public static async Task<DsnSmtpClient> ConnectAsync(TestServer server)
    {
        var client = new DsnSmtpClient();
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
        return client;
    }

    /// <summary>Sends and returns the queue id from the server's <c>250 2.0.0 Ok: queued as ID</c>.</summary>
    public async Task<string> SendForIdAsync(MimeMessage message)
    {
        string response = await SendAsync(message);
        Assert.Matches("queued as [0-9A-F]{13}$", response);
        return response[^13..];
    }

    protected override DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message, MailboxAddress mailbox) => Notify;

    protected override string? GetEnvelopeId(MimeMessage message) => EnvelopeId;
}
