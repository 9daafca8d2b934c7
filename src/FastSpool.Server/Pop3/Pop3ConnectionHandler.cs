using System.Net;
using FastSpool.Server.Smtp;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Pop3;

/// <summary>Kestrel's entry point for POP3 listeners: one <see cref="Pop3Session"/> per connection that the
/// connection limits admit; any other gets <c>-ERR [SYS/TEMP] too many connections</c> and is closed.</summary>
internal sealed class Pop3ConnectionHandler(Pop3ServerContext server)
{
    private static readonly TimeSpan RefusalFlushTimeout = TimeSpan.FromSeconds(5);

    /// <param name="implicitTls">A <c>Pop3:ListenTls</c> endpoint: TLS before the greeting.</param>
    public async Task OnConnectedAsync(ConnectionContext connection, bool implicitTls)
    {
        IPAddress? address = connection.RemoteEndPoint is IPEndPoint ip
            ? ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address
            : null;
        ConnectionAdmission admission = server.Connections.TryAdmit(address);
        if (admission != ConnectionAdmission.Admitted)
        {
            byte[] reply = (admission == ConnectionAdmission.ServerFull ? Pop3Replies.ServerFull : Pop3Replies.TooManyFromClient).ToArray();
            try
            {
                using var timeout = new CancellationTokenSource(RefusalFlushTimeout, server.Time);
                await connection.Transport.Output.WriteAsync(reply, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or ConnectionResetException)
            {
                server.Logger.LogDebug("refused client [{Client}] was gone before its -ERR: {Reason}", address, e.Message);
            }
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
