using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server;

/// <summary>The one line a connection refused by the limits gets before it is closed (SMTP's 421, POP3's -ERR).</summary>
internal static class ConnectionRefusal
{
    // A refused client gets this long to take its one line; a reply that small fits in the socket's buffer.
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(5);

    public static async Task SendAsync(ConnectionContext connection, byte[] reply, TimeProvider time, ILogger log, IPAddress? client)
    {
        try
        {
            using var timeout = new CancellationTokenSource(FlushTimeout, time);
            await connection.Transport.Output.WriteAsync(reply, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or ConnectionResetException)
        {
            log.LogDebug("refused client [{Client}] was gone before its refusal: {Reason}", client, e.Message);
        }
    }
}
