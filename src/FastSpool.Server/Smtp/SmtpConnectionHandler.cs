using Microsoft.AspNetCore.Connections;

namespace FastSpool.Server.Smtp;

/// <summary>Kestrel's entry point for SMTP listeners: one <see cref="SmtpSession"/> per connection.</summary>
internal sealed class SmtpConnectionHandler(SmtpServerContext server) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection) => new SmtpSession(server, connection).RunAsync();
}
