using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Smtp;

/// <summary>Kestrel's entry point for SMTP listeners: one <see cref="SmtpSession"/> per connection that the
/// connection limits admit; any other gets <c>421 4.7.0 host Error: too many connections</c> and is closed.</summary>
internal sealed class SmtpConnectionHandler(SmtpServerContext server)
{
    /// <param name="listener">The listen endpoint the connection came in on (one handler serves them all).</param>
    public async Task OnConnectedAsync(ConnectionContext connection, SmtpListener listener)
    {
        IPAddress? address = ConnectionEndpoints.Address(connection.RemoteEndPoint);
        ConnectionAdmission admission = server.Connections.TryAdmit(address);
        if (admission != ConnectionAdmission.Admitted)
        {
            await RefuseAsync(connection, admission, address).ConfigureAwait(false);
            return;
        }
        try
        {
            await new SmtpSession(server, connection, address, listener).RunAsync().ConfigureAwait(false);
        }
        finally
        {
            server.Connections.Release(address);
        }
    }

    /// <summary>A connection to the sendmail socket: the local user's uid is read from the kernel (SO_PEERCRED); a
    /// connection whose credentials cannot be read is closed unanswered. Counted against Smtp:MaxConnections.</summary>
    public async Task OnLocalConnectedAsync(ConnectionContext connection, SmtpListener listener)
    {
        if (!Admin.PeerCredentials.TryRead(connection.Features.Get<IConnectionSocketFeature>()?.Socket, out Admin.PeerCredentials peer))
        {
            server.Logger.LogWarning("sendmail socket: a connection without peer credentials was closed");
            return;
        }
        ConnectionAdmission admission = server.Connections.TryAdmit(null);
        if (admission != ConnectionAdmission.Admitted)
        {
            await RefuseAsync(connection, admission, null).ConfigureAwait(false);
            return;
        }
        try
        {
            await new SmtpSession(server, connection, null, listener, peer.UserId).RunAsync().ConfigureAwait(false);
        }
        finally
        {
            server.Connections.Release(null);
        }
    }

    private async Task RefuseAsync(ConnectionContext connection, ConnectionAdmission admission, IPAddress? address)
    {
        // Postfix's wording: "421 4.7.0 host Error: too many connections from 192.0.2.1".
        string reply = admission == ConnectionAdmission.ServerFull || address is null
            ? $"421 4.7.0 {server.Options.Hostname} Error: too many connections\r\n"
            : $"421 4.7.0 {server.Options.Hostname} Error: too many connections from {address}\r\n";
        byte[] octets = System.Text.Encoding.ASCII.GetBytes(reply);
        server.Metrics.Rejected("CONNECT", octets);
        await ConnectionRefusal.SendAsync(connection, octets, server.Time, server.Logger, address).ConfigureAwait(false);
    }
}
