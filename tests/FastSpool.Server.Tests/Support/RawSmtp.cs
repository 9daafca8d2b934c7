using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace FastSpool.Server.Tests.Support;

/// <summary>A bare TCP client for the dialogues a real client would never produce (bad input, smuggling
/// attempts, impatient pipelining). Reads reply lines with a deadline.</summary>
internal sealed class RawSmtp : IDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly StringBuilder _pending = new();

    private RawSmtp(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <param name="from">The local address to connect from: another loopback address (127.0.0.2) is another client.</param>
    public static async Task<RawSmtp> ConnectAsync(int port, IPAddress? from = null)
    {
        var tcp = from is null ? new TcpClient() : new TcpClient(new IPEndPoint(from, 0));
        await tcp.ConnectAsync("127.0.0.1", port);
        return new RawSmtp(tcp);
    }

    /// <summary>The TLS handshake over the connection (after <c>220 Ready to start TLS</c>, or at once for implicit
    /// TLS), trusting the certificate with <paramref name="thumbprint"/> only; returns the protocol agreed.</summary>
    public async Task<System.Security.Authentication.SslProtocols> StartTlsAsync(string thumbprint)
    {
        Assert.True(_pending.Length == 0, $"unread input before TLS: {_pending}");
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, c, _, _) => c?.GetCertHashString() == thumbprint,
        });
        _stream = tls;
        return tls.SslProtocol;
    }

    /// <summary>Sends EHLO and returns the reply's lines (the extensions offered).</summary>
    public async Task<List<string>> EhloAsync(string name = "client.example")
    {
        await SendAsync($"EHLO {name}\r\n");
        List<string> lines = [];
        while (await ReadLineAsync(TimeSpan.FromSeconds(10)) is { } line)
        {
            lines.Add(line);
            if (!line.StartsWith("250-", StringComparison.Ordinal))
                break;
        }
        Assert.StartsWith("250 ", lines[^1]);
        return lines;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    /// <summary>Writes <paramref name="chunk"/> again and again without reading a reply, until <paramref name="limit"/>
    /// octets are sent or a write has not completed after <paramref name="stall"/>: the server has stopped reading, and
    /// the buffers between are full. The write that stalled is left pending. Returns the octets written.</summary>
    public async Task<long> FloodAsync(byte[] chunk, long limit, TimeSpan stall)
    {
        long sent = 0;
        while (sent < limit)
        {
            Task write = _stream.WriteAsync(chunk).AsTask();
            if (await Task.WhenAny(write, Task.Delay(stall)) != write)
            {
                _ = write.ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
                return sent;
            }
            await write;
            sent += chunk.Length;
        }
        return sent;
    }

    /// <summary>Reads the next reply line and checks that it starts with <paramref name="prefix"/>.</summary>
    /// Lines of a multi-line reply ("250-...") before the expected one are skipped.
    public async Task<string> ExpectAsync(string prefix, TimeSpan? timeout = null)
    {
        while (true)
        {
            string? line = await ReadLineAsync(timeout ?? TimeSpan.FromSeconds(10));
            Assert.True(line is not null, $"connection closed while waiting for '{prefix}'");
            if (line.StartsWith(prefix, StringComparison.Ordinal))
                return line;
            if (line.Length > 3 && line[3] == '-')
                continue;
            Assert.StartsWith(prefix, line);
        }
    }

    /// <summary>Reads one line; null when the server closed the connection.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            string text = _pending.ToString();
            int end = text.IndexOf("\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + 2);
                return text[..end];
            }
            int n;
            try
            {
                n = await _stream.ReadAsync(_buffer, cts.Token);
            }
            catch (IOException)
            {
                n = 0;
            }
            if (n == 0)
                return null;
            _pending.Append(Encoding.UTF8.GetString(_buffer, 0, n));
        }
    }

    /// <summary>True when the server closes the connection (reads end) before the deadline.</summary>
    public async Task<bool> ClosedAsync(TimeSpan? timeout = null)
    {
        try
        {
            while (await ReadLineAsync(timeout ?? TimeSpan.FromSeconds(10)) is not null)
            {
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _tcp.Dispose();
    }
}
