using System.Net.Sockets;
using System.Text;

namespace FastSpool.Server.Tests.Support;

/// <summary>A POP3 dialogue at the octet level, for what a real client will not send (bad input) and for byte-exact
/// checks of multi-line replies.</summary>
internal sealed class RawPop3 : IDisposable
{
    private readonly TcpClient _client = new();
    private NetworkStream _stream = null!;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public static async Task<RawPop3> ConnectAsync(int port)
    {
        var pop = new RawPop3();
        await pop._client.ConnectAsync("127.0.0.1", port);
        pop._stream = pop._client.GetStream();
        pop._stream.ReadTimeout = 30_000;
        string greeting = await pop.ReadLineAsync();
        Assert.StartsWith("+OK ", greeting);
        return pop;
    }

    public Task SendAsync(string line) => SendRawAsync(Encoding.UTF8.GetBytes(line + "\r\n"));

    public async Task SendRawAsync(byte[] data) => await _stream.WriteAsync(data);

    /// <summary>Sends a command and returns its one-line reply.</summary>
    public async Task<string> CommandAsync(string line)
    {
        await SendAsync(line);
        return await ReadLineAsync();
    }

    public async Task LoginAsync(string user = "alice", string password = "alice-secret")
    {
        Assert.StartsWith("+OK", await CommandAsync("USER " + user));
        string reply = await CommandAsync("PASS " + password);
        Assert.StartsWith("+OK", reply);
    }

    /// <summary>A line without its CRLF (UTF-8).</summary>
    public async Task<string> ReadLineAsync() => Encoding.UTF8.GetString(await ReadLineBytesAsync());

    public async Task<byte[]> ReadLineBytesAsync()
    {
        while (true)
        {
            int lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (lf >= 0)
            {
                Assert.True(lf > _start && _buffer[lf - 1] == '\r', "a reply line must end in CRLF");
                byte[] line = _buffer.AsSpan(_start, lf - 1 - _start).ToArray();
                _start = lf + 1;
                return line;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int read = await _stream.ReadAsync(_buffer.AsMemory(_end));
            if (read == 0)
                throw new EndOfStreamException("the server closed the connection");
            _end += read;
        }
    }

    /// <summary>The body of a multi-line reply exactly as sent (dot-stuffed, CRLF), up to and without the final
    /// ".CRLF" line.</summary>
    public async Task<byte[]> ReadMultilineRawAsync()
    {
        var body = new MemoryStream();
        while (true)
        {
            byte[] line = await ReadLineBytesAsync();
            if (line is [(byte)'.'])
                return body.ToArray();
            body.Write(line);
            body.Write("\r\n"u8);
        }
    }

    /// <summary>Undoes the dot-stuffing of a multi-line body (RFC 1939 §3).</summary>
    public static byte[] Unstuff(byte[] raw)
    {
        var output = new MemoryStream();
        bool lineStart = true;
        for (int i = 0; i < raw.Length; i++)
        {
            if (lineStart && raw[i] == '.')
            {
                lineStart = false;
                continue;
            }
            output.WriteByte(raw[i]);
            lineStart = raw[i] == '\n';
        }
        return output.ToArray();
    }

    /// <summary>True once the server has closed the connection.</summary>
    public async Task<bool> ClosedAsync()
    {
        try
        {
            return await _stream.ReadAsync(_buffer.AsMemory(_end)) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose() => _client.Dispose();
}
