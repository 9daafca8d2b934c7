using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace FastSpool.Tests;

/// <summary>A scriptable SMTP server on loopback, for what a real smarthost cannot be made to do on demand: a given
/// reply at any step (<c>GREETING</c>, <c>EHLO</c>, <c>HELO</c>, <c>STARTTLS</c>, <c>AUTH</c>, <c>MAIL</c>,
/// <c>RCPT</c> or <c>RCPT address</c>, <c>DATA</c>, <c>DOT</c> for the end of the message, <c>RSET</c>), no reply at
/// all at a step (a stall), a connection dropped in the message text, extensions left out, a certificate of the test's
/// choosing. It records every command line and every message it accepted.</summary>
internal sealed class FaultSmarthost : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _connections;

    public FaultSmarthost(X509Certificate2? certificate = null)
    {
        Certificate = certificate;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public X509Certificate2? Certificate { get; }

    public string Name { get; set; } = "smarthost.test";

    public List<string> Extensions { get; } = ["PIPELINING", "SIZE 10485760", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "DSN", "CHUNKING"];

    /// <summary>AUTH PLAIN and LOGIN are offered, and this user and password accepted, when set.</summary>
    public (string User, string Password)? Login { get; set; }

    /// <summary>TLS from the first octet (port 465 style), with <see cref="Certificate"/>.</summary>
    public bool ImplicitTls { get; set; }

    /// <summary>Offer AUTH LOGIN alone.</summary>
    public bool LoginOnly { get; set; }

    public ConcurrentDictionary<string, string> Replies { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Steps at which the server says nothing, ever.</summary>
    public ConcurrentDictionary<string, bool> Stalls { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Close the connection after this many octets of message text.</summary>
    public int? DropAfterDataOctets { get; set; }

    public ConcurrentQueue<string> Commands { get; } = new();

    public ConcurrentQueue<(string Sender, List<string> Recipients, byte[] Text, string MailLine)> Messages { get; } = new();

    /// <summary>Each accepted message's text with the <see cref="Stopwatch"/> timestamp of its 250.</summary>
    public ConcurrentQueue<(long Timestamp, byte[] Text)> Arrivals { get; } = new();

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Steps reached (a stall's step included), for a test that advances a fake clock once the client waits.</summary>
    public ConcurrentQueue<string> Reached { get; } = new();

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                _ = Task.Run(() => ServeAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            Stream stream = client.GetStream();
            try
            {
                if (ImplicitTls && Certificate is not null)
                {
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = Certificate }, _stop.Token);
                    stream = ssl;
                }
                await DialogueAsync(new Connection(stream), stream);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
            {
            }
        }
    }

    private sealed class Connection(Stream stream)
    {
        public Stream Stream = stream;
        private readonly byte[] _one = new byte[1];

        public async Task<string?> ReadLineAsync(CancellationToken token)
        {
            var line = new List<byte>();
            while (true)
            {
                if (await Stream.ReadAsync(_one, token) == 0)
                    return null;
                if (_one[0] == '\n')
                    return Encoding.UTF8.GetString([.. line]).TrimEnd('\r');
                line.Add(_one[0]);
            }
        }

        public async Task<byte[]?> ReadExactlyAsync(long count, CancellationToken token)
        {
            byte[] data = new byte[count];
            try
            {
                await Stream.ReadExactlyAsync(data, token);
            }
            catch (EndOfStreamException)
            {
                return null;
            }
            return data;
        }
    }

    /// <summary>Sends the step's reply (or <paramref name="normal"/>); false when the step stalls.</summary>
    private async Task<bool> ReplyAsync(Connection c, string step, string normal, string? argument = null)
    {
        Reached.Enqueue(step);
        if (Stalls.ContainsKey(step))
        {
            await Task.Delay(Timeout.Infinite, _stop.Token);
            return false;
        }
        string reply = (argument is not null && Replies.TryGetValue($"{step} {argument}", out string? specific)) ? specific
            : Replies.TryGetValue(step, out string? given) ? given : normal;
        await c.Stream.WriteAsync(Encoding.UTF8.GetBytes(reply + "\r\n"), _stop.Token);
        return true;
    }

    /// <summary>With a <c>TEXT</c> stall, reads no more of the connection, ever: the client's writes fill the socket's
    /// buffers and block. True when stalled (at the end of the test).</summary>
    private async Task<bool> StallInTextAsync()
    {
        if (!Stalls.ContainsKey("TEXT"))
            return false;
        Reached.Enqueue("TEXT");
        await Task.Delay(Timeout.Infinite, _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        return true;
    }

    private static bool Positive(string reply) => reply[0] is '2' or '3';

    private async Task DialogueAsync(Connection c, Stream plain)
    {
        CancellationToken token = _stop.Token;
        await ReplyAsync(c, "GREETING", $"220 {Name} ESMTP fault");
        string? sender = null;
        string mailLine = "";
        var recipients = new List<string>();
        var bdat = new List<byte>();
        bool tls = false;
        while (await c.ReadLineAsync(token) is { } line)
        {
            Commands.Enqueue(line);
            string verb = (line.Split(' ', 2)[0]).ToUpperInvariant();
            string argument = line.Length > verb.Length ? line[(verb.Length + 1)..] : "";
            switch (verb)
            {
                case "EHLO":
                    List<string> offered = [.. Extensions];
                    if (Certificate is not null && !tls && !ImplicitTls)
                        offered.Add("STARTTLS");
                    if (Login is not null)
                        offered.Add(LoginOnly ? "AUTH LOGIN" : "AUTH PLAIN LOGIN");
                    string ehlo = string.Join("\r\n", new[] { $"250-{Name}" }.Concat(offered.Select((e, i) => (i == offered.Count - 1 ? "250 " : "250-") + e)));
                    if (offered.Count == 0)
                        ehlo = $"250 {Name}";
                    await ReplyAsync(c, "EHLO", ehlo);
                    break;
                case "HELO":
                    await ReplyAsync(c, "HELO", $"250 {Name}");
                    break;
                case "STARTTLS":
                    if (await ReplyAsync(c, "STARTTLS", "220 2.0.0 Ready to start TLS") && Certificate is not null && !Replies.ContainsKey("STARTTLS"))
                    {
                        var ssl = new SslStream(plain, leaveInnerStreamOpen: false);
                        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = Certificate }, token);
                        c.Stream = ssl;
                        tls = true;
                    }
                    break;
                case "AUTH":
                    string[] words = argument.Split(' ');
                    string? user = null, password = null;
                    if (words[0].Equals("PLAIN", StringComparison.OrdinalIgnoreCase) && words.Length > 1)
                    {
                        string[] parts = Encoding.UTF8.GetString(Convert.FromBase64String(words[1])).Split('\0');
                        (user, password) = (parts[1], parts[2]);
                    }
                    else if (words[0].Equals("LOGIN", StringComparison.OrdinalIgnoreCase))
                    {
                        await c.Stream.WriteAsync("334 VXNlcm5hbWU6\r\n"u8.ToArray(), token);
                        user = Encoding.UTF8.GetString(Convert.FromBase64String(await c.ReadLineAsync(token) ?? ""));
                        await c.Stream.WriteAsync("334 UGFzc3dvcmQ6\r\n"u8.ToArray(), token);
                        password = Encoding.UTF8.GetString(Convert.FromBase64String(await c.ReadLineAsync(token) ?? ""));
                    }
                    bool good = Login is { } login && user == login.User && password == login.Password;
                    await ReplyAsync(c, "AUTH", good ? "235 2.7.0 Authentication successful" : "535 5.7.8 Error: authentication failed");
                    break;
                case "MAIL":
                    string mail = Replies.GetValueOrDefault("MAIL", "250 2.1.0 Ok");
                    if (await ReplyAsync(c, "MAIL", "250 2.1.0 Ok") && Positive(mail))
                    {
                        sender = argument[(argument.IndexOf('<') + 1)..argument.IndexOf('>')];
                        mailLine = line;
                        recipients.Clear();
                    }
                    break;
                case "RCPT":
                    string address = argument[(argument.IndexOf('<') + 1)..argument.IndexOf('>')];
                    string rcpt = Replies.GetValueOrDefault($"RCPT {address}", Replies.GetValueOrDefault("RCPT", "250 2.1.5 Ok"));
                    if (await ReplyAsync(c, "RCPT", "250 2.1.5 Ok", address) && sender is not null && Positive(rcpt))
                        recipients.Add(address);
                    break;
                case "DATA":
                    string data = sender is null || recipients.Count == 0 ? "554 5.5.1 Error: no valid recipients" : Replies.GetValueOrDefault("DATA", "354 End data with <CR><LF>.<CR><LF>");
                    if (!await ReplyAsync(c, "DATA", data) || data[0] != '3')
                        break;
                    if (await StallInTextAsync())
                        return;
                    var text = new MemoryStream();
                    while (true)
                    {
                        string? textLine = await c.ReadLineAsync(token);
                        if (textLine is null)
                            return;
                        if (textLine == ".")
                            break;
                        if (textLine.StartsWith('.'))
                            textLine = textLine[1..];
                        text.Write(Encoding.UTF8.GetBytes(textLine + "\r\n"));
                        if (DropAfterDataOctets is { } limit && text.Length >= limit)
                            return;
                    }
                    await EndMessageAsync(c, sender!, recipients, text.ToArray(), mailLine);
                    sender = null;
                    break;
                case "BDAT":
                    if (await StallInTextAsync())
                        return;
                    string[] size = argument.Split(' ');
                    byte[]? chunk = await c.ReadExactlyAsync(long.Parse(size[0], System.Globalization.CultureInfo.InvariantCulture), token);
                    if (chunk is null || (DropAfterDataOctets is { } dropAt && bdat.Count + chunk.Length >= dropAt))
                        return;
                    bdat.AddRange(chunk);
                    if (size.Length > 1)
                    {
                        await EndMessageAsync(c, sender!, recipients, [.. bdat], mailLine);
                        bdat.Clear();
                        sender = null;
                    }
                    else
                    {
                        await c.Stream.WriteAsync(Encoding.UTF8.GetBytes($"250 2.0.0 {chunk.Length} octets\r\n"), token);
                    }
                    break;
                case "RSET":
                    sender = null;
                    await ReplyAsync(c, "RSET", "250 2.0.0 Ok");
                    break;
                case "QUIT":
                    await c.Stream.WriteAsync("221 2.0.0 Bye\r\n"u8.ToArray(), token);
                    return;
                default:
                    await c.Stream.WriteAsync("502 5.5.2 Error: command not recognized\r\n"u8.ToArray(), token);
                    break;
            }
        }
    }

    private async Task EndMessageAsync(Connection c, string sender, List<string> recipients, byte[] text, string mailLine)
    {
        string reply = Replies.GetValueOrDefault("DOT", "250 2.0.0 Ok: queued as F00D");
        if (await ReplyAsync(c, "DOT", "250 2.0.0 Ok: queued as F00D") && reply[0] == '2')
        {
            Messages.Enqueue((sender, [.. recipients], text, mailLine));
            Arrivals.Enqueue((Stopwatch.GetTimestamp(), text));
        }
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
