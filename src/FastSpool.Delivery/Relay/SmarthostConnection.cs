// RFC 5321 §3.1 (greeting), §4.1.1.1 (EHLO, HELO fallback), §4.5.3.2 (client timeouts); RFC 3207 (STARTTLS);
// RFC 4954 (AUTH) with PLAIN (RFC 4616) and LOGIN.
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FastSpool.Delivery.Transport;
using FastSpool.Protocols.Smtp;
using FastSpool.Queue;

namespace FastSpool.Delivery.Relay;

/// <summary>One SMTP connection to the smarthost, on pipes over the socket (or over TLS on it). Every wait is timed on
/// the transport's clock; a timeout, a lost connection or a refusal of the session ends the connection with a
/// <see cref="RelayFailure"/>.</summary>
internal sealed partial class SmarthostConnection : IAsyncDisposable
{
    private const int MaxReplyLength = 64 * 1024;

    private readonly RelaySettings _settings;
    private readonly TimeProvider _time;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _cancel;
    private readonly ITimer _timer;
    private Stream _stream;
    private PipeReader _input;
    private PipeWriter _output;
    private string _step = "the greeting";

    private SmarthostConnection(RelaySettings settings, TimeProvider time, Socket socket, CancellationToken stopping)
    {
        _settings = settings;
        _time = time;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        (_input, _output) = Pipes(_stream);
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _timer = time.CreateTimer(static state => ((SmarthostConnection)state!).TimedOut(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Peer = settings.Host;
    }

    /// <summary><c>host[ip]:port</c>, as relay= logs it.</summary>
    public string Peer { get; private set; }

    /// <summary>What the server's EHLO offered (nothing after HELO).</summary>
    public EhloReply Ehlo { get; private set; }

    /// <summary>Messages sent over this connection.</summary>
    public int Messages { get; set; }

    /// <summary>When the connection was last left idle (the clock's timestamp).</summary>
    public long IdleSince { get; set; }

    /// <summary>Set when a step failed part way: the connection must not be used again.</summary>
    public bool Broken { get; private set; }

    private bool _timedOut;

    private void TimedOut()
    {
        _timedOut = true;
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        // A send blocked on a full socket buffer (a server that stopped reading) does not see the token: closing the
        // socket ends it. The connection is given up after any timeout anyway.
        _socket.Dispose();
    }

    private void Arm(TimeSpan timeout) => _timer.Change(timeout, Timeout.InfiniteTimeSpan);

    private void Disarm() => _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    private static (PipeReader, PipeWriter) Pipes(Stream stream) =>
        (PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true)), PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true)));

    /// <summary>Connects, reads the greeting, says EHLO (HELO if refused), starts TLS and authenticates as configured.</summary>
    public static async Task<SmarthostConnection> OpenAsync(RelaySettings settings, TimeProvider time, CancellationToken stopping)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        SmarthostConnection? connection = null;
        try
        {
            IPEndPoint endpoint = await ConnectAsync(socket, settings, time, stopping).ConfigureAwait(false);
            connection = new SmarthostConnection(settings, time, socket, stopping)
            {
                Peer = $"{settings.Host}[{(endpoint.Address.IsIPv4MappedToIPv6 ? endpoint.Address.MapToIPv4() : endpoint.Address)}]:{endpoint.Port}",
            };
            await connection.StartAsync().ConfigureAwait(false);
            return connection;
        }
        catch
        {
            if (connection is not null)
                await connection.DisposeAsync().ConfigureAwait(false);
            else
                socket.Dispose();
            throw;
        }
    }

    private static async Task<IPEndPoint> ConnectAsync(Socket socket, RelaySettings settings, TimeProvider time, CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(settings.Timeouts.Connect, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
        try
        {
            await socket.ConnectAsync(settings.Host, settings.Port, linked.Token).ConfigureAwait(false);
            return (IPEndPoint)socket.RemoteEndPoint!;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw Fail($"connect to {settings.Host}:{settings.Port}: timed out");
        }
        catch (SocketException e)
        {
            throw Fail($"connect to {settings.Host}:{settings.Port}: {e.Message}");
        }
    }

    private async Task StartAsync()
    {
        if (_settings.Tls == RelayTls.Implicit)
            await HandshakeAsync().ConfigureAwait(false);
        RemoteReply greeting = await ReadReplyAsync(_settings.Timeouts.Greeting).ConfigureAwait(false);
        if (greeting.Code != 220)
            throw Refused(greeting);
        if (FirstWord(greeting.Text).Equals(_settings.Hostname, StringComparison.OrdinalIgnoreCase))
            throw LoopsBack();
        await HelloAsync().ConfigureAwait(false);
        if (_settings.Tls == RelayTls.StartTls)
        {
            if (!Ehlo.Has(SmtpExtensions.StartTls))
                throw Failed($"TLS is required, but was not offered by host {Peer}", "4.7.4");
            _step = "STARTTLS";
            RemoteReply reply = await CommandAsync("STARTTLS\r\n"u8, _settings.Timeouts.Command).ConfigureAwait(false);
            if (reply.Code != 220)
                throw Failed($"TLS is required, but host {Peer} refused to start TLS: {reply.Code} {reply.Text}", "4.7.4");
            // Octets the server sent behind its 220 came in clear and may be an attacker's (CVE-2011-0411).
            if (_input.TryRead(out ReadResult extra) && !extra.Buffer.IsEmpty)
                throw Failed($"host {Peer} sent text in clear after STARTTLS", "4.7.0");
            await HandshakeAsync().ConfigureAwait(false);
            await HelloAsync().ConfigureAwait(false);
        }
        if (_settings.Username is not null)
            await AuthenticateAsync().ConfigureAwait(false);
    }

    /// <summary>EHLO; HELO when the server refuses EHLO with a 5xx (RFC 5321 §4.1.4).</summary>
    private async Task HelloAsync()
    {
        _step = "EHLO";
        RemoteReply reply = await CommandAsync($"EHLO {_settings.Hostname}\r\n", _settings.Timeouts.Command, ehlo: true).ConfigureAwait(false);
        if (reply.Code is >= 500 and < 600)
        {
            _step = "HELO";
            Ehlo = default;
            reply = await CommandAsync($"HELO {_settings.Hostname}\r\n", _settings.Timeouts.Command).ConfigureAwait(false);
        }
        if (reply.Code != 250)
            throw Refused(reply);
        if (FirstWord(reply.Text).Equals(_settings.Hostname, StringComparison.OrdinalIgnoreCase))
            throw LoopsBack();
    }

    private async Task HandshakeAsync()
    {
        _step = "the TLS handshake";
        await _input.CompleteAsync().ConfigureAwait(false);
        await _output.CompleteAsync().ConfigureAwait(false);
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = _settings.Host,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => _settings.AcceptsCertificate(certificate as X509Certificate2, errors),
        };
        Arm(_settings.Timeouts.Command);
        try
        {
            await tls.AuthenticateAsClientAsync(options, _cancel.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (_timedOut && e is OperationCanceledException or AuthenticationException or IOException or ObjectDisposedException or SocketException)
        {
            throw TimedOutFailure();
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            Broken = true;
            throw Failed($"TLS with host {Peer} failed: {e.Message}", "4.7.5");
        }
        finally
        {
            Disarm();
        }
        _stream = tls;
        (_input, _output) = Pipes(tls);
        Ehlo = default;
    }

    /// <summary>AUTH PLAIN, else LOGIN; never in clear unless Relay:Tls is none (checked by the caller's settings).</summary>
    private async Task AuthenticateAsync()
    {
        _step = "AUTH";
        string password = _settings.ReadPassword();
        RemoteReply reply;
        if (Ehlo.Has(SmtpExtensions.AuthPlain))
        {
            string token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{_settings.Username}\0{password}"));
            reply = await CommandAsync($"AUTH PLAIN {token}\r\n", _settings.Timeouts.Command).ConfigureAwait(false);
        }
        else if (Ehlo.Has(SmtpExtensions.AuthLogin))
        {
            reply = await CommandAsync("AUTH LOGIN\r\n"u8, _settings.Timeouts.Command).ConfigureAwait(false);
            if (reply.Code == 334)
                reply = await CommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(_settings.Username!)) + "\r\n", _settings.Timeouts.Command).ConfigureAwait(false);
            if (reply.Code == 334)
                reply = await CommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(password)) + "\r\n", _settings.Timeouts.Command).ConfigureAwait(false);
        }
        else
        {
            throw Failed($"host {Peer} offers no AUTH mechanism this client has (PLAIN, LOGIN)", "4.7.0");
        }
        if (reply.Code != 235)
            throw Failed($"SASL authentication failed; server {Peer} said: {reply.Code} {reply.Text}", "4.7.0");
    }

    /// <summary>RSET between messages; false when the connection is no good for another.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> ResetAsync()
    {
        _step = "RSET";
        try
        {
            return (await CommandAsync("RSET\r\n"u8, _settings.Timeouts.Command, keepText: false).ConfigureAwait(false)).Code == 250;
        }
        catch (RelayFailure)
        {
            return false;
        }
    }

    private async Task<RemoteReply> CommandAsync(string command, TimeSpan timeout, bool ehlo = false)
    {
        Write(command);
        await FlushAsync(_settings.Timeouts.Command).ConfigureAwait(false);
        return await ReadReplyAsync(timeout, ehlo).ConfigureAwait(false);
    }

    private ValueTask<RemoteReply> CommandAsync(ReadOnlySpan<byte> command, TimeSpan timeout, bool keepText = true)
    {
        _output.Write(command);
        return FlushAndReadAsync(timeout, keepText);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<RemoteReply> FlushAndReadAsync(TimeSpan timeout, bool keepText)
    {
        await FlushAsync(_settings.Timeouts.Command).ConfigureAwait(false);
        return await ReadReplyAsync(timeout, keepText: keepText).ConfigureAwait(false);
    }

    public void Write(string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        Encoding.UTF8.GetBytes(text, _output.GetSpan(length));
        _output.Advance(length);
    }

    /// <summary>Sends what was written; a server that does not take it within <paramref name="timeout"/> is given up.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FlushAsync(TimeSpan timeout)
    {
        Arm(timeout);
        try
        {
            await _output.FlushAsync(_cancel.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            throw ConnectionFailure(e);
        }
        finally
        {
            Disarm();
        }
    }

    /// <summary>Reads one whole reply, multi-line ones joined; with <paramref name="ehlo"/>, also what it offers. Without
    /// <paramref name="keepText"/>, a positive reply comes back without its text (no string made: MAIL, RCPT, DATA and
    /// RSET of every message say nothing that is logged when they succeed). A ValueTask: replies to pipelined commands
    /// are usually in the buffer already.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<RemoteReply> ReadReplyAsync(TimeSpan timeout, bool ehlo = false, bool keepText = true)
    {
        Arm(timeout);
        try
        {
            while (true)
            {
                ReadResult result = await _input.ReadAsync(_cancel.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                var reader = new SequenceReader<byte>(buffer);
                switch (SmtpReplyParser.TryReadReply(ref reader, out int code, out ReadOnlySequence<byte> reply))
                {
                    case ReplyReadStatus.Complete:
                        if (ehlo)
                            Ehlo = SmtpReplyParser.ReadExtensions(reply);
                        var text = new RemoteReply(code, !keepText && code is >= 200 and < 400 ? "" : Join(reply));
                        _input.AdvanceTo(reader.Position);
                        return text;
                    case ReplyReadStatus.Malformed:
                        Broken = true;
                        throw Failed($"host {Peer} sent a malformed reply after {_step}");
                }
                if (buffer.Length > MaxReplyLength)
                {
                    Broken = true;
                    throw Failed($"host {Peer} sent a reply longer than {MaxReplyLength} octets after {_step}");
                }
                if (result.IsCompleted)
                    throw Lost("the connection was closed");
                _input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            throw ConnectionFailure(e);
        }
        finally
        {
            Disarm();
        }
    }

    /// <summary>The reply's text without codes: lines after "250-" / "250 " joined by single spaces.</summary>
    private static string Join(ReadOnlySequence<byte> reply)
    {
        string all = Encoding.UTF8.GetString(reply);
        var text = new StringBuilder(all.Length);
        foreach (string line in all.Split('\n'))
        {
            string l = line.TrimEnd('\r');
            if (l.Length < 3)
                continue;
            if (text.Length > 0)
                text.Append(' ');
            text.Append(l.Length > 4 ? l[4..] : "");
        }
        // Control characters from the wire never reach the log or a notice.
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsControl(text[i]))
                text[i] = '?';
        }
        return text.ToString();
    }

    private static string FirstWord(string text)
    {
        int space = text.IndexOf(' ');
        return space < 0 ? text : text[..space];
    }

    /// <summary>The session refused at greeting, EHLO or HELO: the server's own reply, deferred or bounced by its code.</summary>
    private RelayFailure Refused(RemoteReply reply)
    {
        Broken = true;
        return new RelayFailure(reply.ToResult(Peer));
    }

    private RelayFailure LoopsBack()
    {
        Broken = true;
        return new RelayFailure(DeliveryResult.Permanent("5.4.6", $"mail for {_settings.Host} loops back to myself", 554));
    }

    private bool IsConnectionFailure(Exception e) =>
        (e is OperationCanceledException && _timedOut) || e is IOException or SocketException or ObjectDisposedException;

    /// <summary>What a failed wait means: the step's timeout ran out, or the connection broke.</summary>
    private RelayFailure ConnectionFailure(Exception e) => _timedOut ? TimedOutFailure() : Lost(e.Message);

    private RelayFailure TimedOutFailure()
    {
        Broken = true;
        return Failed($"conversation with {Peer} timed out while waiting for {_step}", "4.4.2");
    }

    private RelayFailure Lost(string why)
    {
        Broken = true;
        return Failed($"lost connection with {Peer} during {_step}: {why}", "4.4.2");
    }

    /// <summary>A failure before any host answered: logged as <c>relay=none</c>.</summary>
    private static RelayFailure Fail(string text, string status = "4.4.1") => new(DeliveryResult.Temporary(status, text, 451));

    /// <summary>A failure of ours in the session with the host (TLS not offered, a timeout, the connection lost):
    /// logged with the host, <c>relay=host[ip]:port</c>, as Postfix logs it, but not quoted as the host's reply.</summary>
    private RelayFailure Failed(string text, string status = "4.4.1") =>
        new(new DeliveryResult(DeliveryResultKind.Temporary, new DeliveryReply(451, status, text, Peer) { FromHost = false }));

    /// <summary>QUIT, without waiting long for the answer, then close.</summary>
    public async Task QuitAsync()
    {
        if (!Broken && !_cancel.IsCancellationRequested)
        {
            try
            {
                _step = "QUIT";
                Write("QUIT\r\n");
                await FlushAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                await ReadReplyAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (RelayFailure)
            {
            }
        }
        await DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        Broken = true;
        await _timer.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _input.CompleteAsync().ConfigureAwait(false);
            // Completing the writer flushes what is left: on a connection already lost or closed by a timeout, that
            // write fails, and nothing is left to do.
            await _output.CompleteAsync().ConfigureAwait(false);
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
        _socket.Dispose();
        _cancel.Dispose();
    }
}
