using System.Net.Sockets;
using System.Text;

namespace FastSpool.Cli.Sendmail;

/// <summary>sendmail's side of the submission socket: SMTP over a Unix socket to the running server, one command
/// at a time (the socket is local; pipelining would save microseconds). The message text is dot-stuffed as it
/// goes.</summary>
internal sealed class LocalSmtpClient : IDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromMinutes(5);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly BufferedStream _output;
    private readonly byte[] _input = new byte[4096];
    private int _start;
    private int _end;
    private bool _atLineStart = true;

    private LocalSmtpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _output = new BufferedStream(_stream, 64 * 1024);
    }

    public Action<string>? Trace { get; init; }

    /// <summary>Connects; null, with why, when nothing answers at <paramref name="path"/> (no server running).</summary>
    public static LocalSmtpClient? TryConnect(string path, Action<string>? trace, out string why)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        {
            ReceiveTimeout = (int)ReplyTimeout.TotalMilliseconds,
            SendTimeout = (int)ReplyTimeout.TotalMilliseconds,
        };
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            socket.Dispose();
            why = e.SocketErrorCode switch
            {
                SocketError.AddressNotAvailable => $"no submission socket at {path}",
                SocketError.ConnectionRefused => $"nothing answers on {path}",
                SocketError.AccessDenied => $"permission denied on {path}",
                _ => $"cannot connect to {path}: {e.Message}",
            };
            return null;
        }
        why = "";
        return new LocalSmtpClient(socket) { Trace = trace };
    }

    /// <summary>The underlying stream, for -bs, which relays octets both ways.</summary>
    public NetworkStream Stream => _stream;

    public Socket Socket => _socket;

    /// <summary>Sends a command line and reads its reply.</summary>
    public SmtpReply Command(string line)
    {
        Trace?.Invoke(">>> " + line);
        _output.Write(Encoding.UTF8.GetBytes(line + "\r\n"));
        _output.Flush();
        return ReadReply();
    }

    /// <summary>Message text in CRLF form, dot-stuffed on the way (buffered); lines may cross from one call to the
    /// next.</summary>
    public void WriteData(ReadOnlySpan<byte> text)
    {
        while (!text.IsEmpty)
        {
            if (_atLineStart && text[0] == (byte)'.')
                _output.WriteByte((byte)'.');
            int lf = text.IndexOf((byte)'\n');
            if (lf < 0)
            {
                _output.Write(text);
                _atLineStart = false;
                return;
            }
            _output.Write(text[..(lf + 1)]);
            text = text[(lf + 1)..];
            _atLineStart = true;
        }
    }

    /// <summary>The end of data, and the reply to it (the server's commit).</summary>
    public SmtpReply EndData()
    {
        _output.Write(".\r\n"u8);
        _output.Flush();
        return ReadReply();
    }

    /// <summary>A multi-line reply, its lines joined by spaces after the code.</summary>
    public SmtpReply ReadReply()
    {
        var text = new StringBuilder();
        while (true)
        {
            string line = ReadLine();
            Trace?.Invoke("<<< " + line);
            if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), out int code))
                throw new IOException("the server's reply is not SMTP: " + line);
            if (text.Length > 0)
                text.Append(' ');
            text.Append(line.Length > 4 ? line[4..] : "");
            if (line.Length < 4 || line[3] != '-')
                return new SmtpReply(code, text.ToString());
        }
    }

    private string ReadLine()
    {
        var line = new List<byte>();
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = _stream.Read(_input);
                if (_end == 0)
                    throw new IOException("the server closed the connection");
            }
            byte b = _input[_start++];
            if (b == '\n')
            {
                if (line.Count > 0 && line[^1] == '\r')
                    line.RemoveAt(line.Count - 1);
                return Encoding.UTF8.GetString([.. line]);
            }
            if (line.Count > 4096)
                throw new IOException("the server's reply line is too long");
            line.Add(b);
        }
    }

    public void Dispose()
    {
        _output.Dispose();
        _stream.Dispose();
    }
}
