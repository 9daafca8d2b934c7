using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastSpool.Bench.Tests;

/// <summary>
/// Just enough of an SMTP server (RFC 5321, PIPELINING, CHUNKING) to receive the generator's mail on loopback and
/// record exactly what arrived and how: the unstuffed messages, greeting verbs, connections, RSETs, and whether
/// the client sent before it was answered.
/// </summary>
internal sealed class FakeSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _sessions = [];
    private readonly Task _accepting;
    private readonly Lock _mboxLock = new();
    private int _transactions;
    private int _mails;
    private int _connections;
    private int _resets;
    private int _earlyInput;
    private int _textBeforeGoAhead;
    private int _quits;

    public FakeSmtpServer()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Advertise PIPELINING and CHUNKING after EHLO.</summary>
    public bool Extensions { get; init; } = true;

    /// <summary>Answer MAIL and RCPT only together with the DATA or BDAT that ends their group: a client that does
    /// not pipeline waits forever (RFC 2920 allows a server to do this).</summary>
    public bool HoldEnvelopeReplies { get; init; }

    /// <summary>The reply to the Nth message's end (1-based, in arrival order); null means 250.</summary>
    public Func<int, string?>? EndOfDataReply { get; init; }

    /// <summary>For the Nth MAIL: answer 421 and close the connection.</summary>
    public Func<int, bool>? CloseAtMail { get; init; }

    /// <summary>Append accepted messages to this mbox file.</summary>
    public string? Mbox { get; init; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Address => $"127.0.0.1:{Port}";

    public ConcurrentQueue<byte[]> Messages { get; } = new();

    public ConcurrentQueue<string> Greetings { get; } = new();

    /// <summary>"DATA", or "BDAT n LAST" as received.</summary>
    public ConcurrentQueue<string> Transfers { get; } = new();

    public int Connections => Volatile.Read(ref _connections);

    public int Resets => Volatile.Read(ref _resets);

    public int Quits => Volatile.Read(ref _quits);

    /// <summary>Commands after which more input was already waiting before the reply went out.</summary>
    public int EarlyInput => Volatile.Read(ref _earlyInput);

    /// <summary>DATA commands followed by input before the 354 went out.</summary>
    public int TextBeforeGoAhead => Volatile.Read(ref _textBeforeGoAhead);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
        await Task.WhenAll(_sessions);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            Interlocked.Increment(ref _connections);
            _sessions.Add(Task.Run(() => ServeAsync(client)));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                await ConverseAsync(client.GetStream());
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
            }
        }
    }

    private async Task ConverseAsync(NetworkStream stream)
    {
        var input = new Input(stream, _stop.Token);
        var held = new StringBuilder();
        async Task ReplyAsync(string reply, bool canHold = false)
        {
            held.Append(reply).Append("\r\n");
            if (canHold && HoldEnvelopeReplies)
                return;
            byte[] bytes = Encoding.ASCII.GetBytes(held.ToString());
            held.Clear();
            await stream.WriteAsync(bytes, _stop.Token);
        }

        await ReplyAsync("220 fake.test ESMTP");
        var chunks = new MemoryStream();
        while (true)
        {
            byte[]? line = await input.ReadLineAsync();
            if (line is null)
                return;
            string command = Encoding.ASCII.GetString(line).TrimEnd('\r');
            string verb = command.Length >= 4 ? command[..4].ToUpperInvariant() : command.ToUpperInvariant();
            bool early = input.HasInput;
            switch (verb)
            {
                case "EHLO":
                    Count(early);
                    Greetings.Enqueue("EHLO");
                    await ReplyAsync(Extensions ? "250-fake.test\r\n250-PIPELINING\r\n250-SIZE 100000000\r\n250 CHUNKING" : "250 fake.test");
                    break;
                case "HELO":
                    Count(early);
                    Greetings.Enqueue("HELO");
                    await ReplyAsync("250 fake.test");
                    break;
                case "MAIL":
                    if (CloseAtMail?.Invoke(Interlocked.Increment(ref _mails)) == true)
                    {
                        await ReplyAsync("421 4.3.2 fake.test closing");
                        return;
                    }
                    Count(early);
                    chunks.SetLength(0);
                    await ReplyAsync("250 2.1.0 Ok", canHold: true);
                    break;
                case "RCPT":
                    Count(early);
                    await ReplyAsync("250 2.1.5 Ok", canHold: true);
                    break;
                case "DATA":
                    if (early)
                        Interlocked.Increment(ref _textBeforeGoAhead);
                    Transfers.Enqueue("DATA");
                    await ReplyAsync("354 End data with <CR><LF>.<CR><LF>");
                    var text = new MemoryStream();
                    while (true)
                    {
                        byte[] textLine = await input.ReadLineAsync() ?? throw new IOException("closed in DATA");
                        if (textLine.AsSpan().SequenceEqual(".\r"u8))
                            break;
                        int skip = textLine.Length > 0 && textLine[0] == (byte)'.' ? 1 : 0;
                        text.Write(textLine, skip, textLine.Length - skip);
                        text.WriteByte((byte)'\n');
                    }
                    Count(input.HasInput);
                    await ReplyAsync(EndOfMessage(text.ToArray()));
                    break;
                case "BDAT":
                    string[] parts = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    bool last = parts.Length == 3 && parts[2].Equals("LAST", StringComparison.OrdinalIgnoreCase);
                    Transfers.Enqueue(command);
                    chunks.Write(await input.ReadExactlyAsync(int.Parse(parts[1])));
                    Count(input.HasInput);
                    await ReplyAsync(last ? EndOfMessage(chunks.ToArray()) : "250 2.0.0 chunk");
                    break;
                case "RSET":
                    Count(early);
                    Interlocked.Increment(ref _resets);
                    await ReplyAsync("250 2.0.0 Ok");
                    break;
                case "QUIT":
                    Interlocked.Increment(ref _quits);
                    await ReplyAsync("221 2.0.0 Bye");
                    return;
                default:
                    await ReplyAsync("500 5.5.2 what?");
                    break;
            }
        }
    }

    private void Count(bool early)
    {
        if (early)
            Interlocked.Increment(ref _earlyInput);
    }

    private string EndOfMessage(byte[] message)
    {
        string? reply = EndOfDataReply?.Invoke(Interlocked.Increment(ref _transactions));
        if (reply is not null)
            return reply;
        Messages.Enqueue(message);
        if (Mbox is not null)
        {
            string text = Encoding.ASCII.GetString(message).Replace("\r\n", "\n", StringComparison.Ordinal);
            lock (_mboxLock)
                File.AppendAllText(Mbox, "From bench@example.org  Tue Nov 24 17:19:20 2026\n" + text + "\n");
        }
        return "250 2.0.0 Ok: queued";
    }

    /// <summary>Buffered input: lines (returned with their CR, without LF) and exact byte counts.</summary>
    private sealed class Input(NetworkStream stream, CancellationToken stop)
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _start;
        private int _end;

        public bool HasInput => _end > _start || stream.DataAvailable;

        public async Task<byte[]?> ReadLineAsync()
        {
            while (true)
            {
                int lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (lf >= 0)
                {
                    byte[] line = _buffer[_start..lf];
                    _start = lf + 1;
                    return line;
                }
                if (!await FillAsync())
                    return null;
            }
        }

        public async Task<byte[]> ReadExactlyAsync(int count)
        {
            var bytes = new byte[count];
            int have = 0;
            while (have < count)
            {
                if (_start == _end && !await FillAsync())
                    throw new IOException("closed in BDAT");
                int take = Math.Min(count - have, _end - _start);
                Array.Copy(_buffer, _start, bytes, have, take);
                _start += take;
                have += take;
            }
            return bytes;
        }

        private async Task<bool> FillAsync()
        {
            if (_start > 0)
            {
                Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
                throw new IOException("line too long");
            int read = await stream.ReadAsync(_buffer.AsMemory(_end), stop);
            _end += read;
            return read > 0;
        }
    }
}
