using System.Net;
using FastSpool.Server.Smtp;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Pop3;

/// <summary>Kestrel's entry point for POP3 listeners: one <see cref="Pop3Session"/> per connection that the
/// connection limits admit; any other gets <c>-ERR [SYS/TEMP] too many connections</c> and is closed.</summary>
internal sealed class Pop3ConnectionHandler(Pop3ServerContext server)
{
    /// <param name="implicitTls">A <c>Pop3:ListenTls</c> endpoint: TLS before the greeting.</param>
    public async Task OnConnectedAsync(ConnectionContext connection, bool implicitTls)
    {
        IPAddress? address = ConnectionEndpoints.Address(connection.RemoteEndPoint);
        ConnectionAdmission admission = server.Connections.TryAdmit(address);
        if (admission != ConnectionAdmission.Admitted)
        {
            byte[] reply = (admission == ConnectionAdmission.ServerFull ? Pop3Replies.ServerFull : Pop3Replies.TooManyFromClient).ToArray();
            await ConnectionRefusal.SendAsync(connection, reply, server.Time, server.Logger, address).ConfigureAwait(false);
            return;
        }
        try
        {
            await new Pop3Session(server, connection, address, implicitTls).RunAsync().ConfigureAwait(false);
        }
        finally
        {
            server.Connections.Release(address);
        }
    }
}
