// RFC 1939 (POP3) server side: §3 states and the autologout timer, §§4-7 commands; RFC 2449 (CAPA, response codes,
// PIPELINING: replies are flushed when the input is used up); RFC 5034 (AUTH).
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using FastSpool.Delivery.Maildrop;
using FastSpool.Logging;
using FastSpool.Protocols.Pop3;
using FastSpool.Protocols.Sasl;
using FastSpool.Protocols.Smtp;
using FastSpool.Server.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Pop3;

/// <summary>One POP3 connection. Command lines are parsed from the pipe's buffers; message text is streamed from the
/// maildrop's mapping into the output, LF turned into CRLF and dot-stuffed on the way.</summary>
/// <remarks>STLS (RFC 2595 §4): after <c>+OK</c> the transport is wrapped in TLS, input that came with the STLS line is
/// dropped unread (as after SMTP's STARTTLS), and the session starts again in AUTHORIZATION.</remarks>
internal sealed partial class Pop3Session
{
    /// <summary>Longest command line, with its CRLF. RFC 2449 §4 asks for 255; AUTH PLAIN's response needs more.</summary>
    private const int MaxLine = SaslPlain.MaxEncodedLength + 32;
    private const int MaxErrors = 20;
    private const int FlushThreshold = 64 * 1024;

    private readonly Pop3ServerContext _server;
    private readonly ConnectionContext _connection;
    private readonly bool _implicitTls;
    private PipeReader _input;
    private PipeWriter _output;
    private TlsConnection? _tls;
    private bool _startTls;
    private readonly IPAddress? _clientIp;
    private readonly string _client;
    private readonly CancellationTokenSource _timeout;
    private readonly ITimer _timer;
    private readonly CancellationToken _connectionClosed;
    private readonly byte[] _line = new byte[MaxLine];
    private CommandLineReader _lineReader;

    private Pop3State _state;
    // A connection under TLS (a listener with implicit TLS; STLS sets it when it comes): a login is always allowed.
    private bool _secure;
    private readonly bool _plaintextAllowed;
    private string? _user;
    private bool _awaitingSaslResponse;
    private int _errors;
    private bool _timedOut;

    // TRANSACTION state.
    private Maildrop? _maildrop;
    private bool[] _deleted = [];
    private int _retrieved;
    private long _retrievedOctets;
    private int _topped;
    private MultilineEncoder _encoder;

    public Pop3Session(Pop3ServerContext server, ConnectionContext connection, IPAddress? clientAddress, bool implicitTls = false)
    {
        _server = server;
        _connection = connection;
        _implicitTls = implicitTls;
        _input = connection.Transport.Input;
        _output = connection.Transport.Output;
        _clientIp = clientAddress;
        _client = clientAddress?.ToString() ?? connection.RemoteEndPoint?.ToString() ?? "unknown";
        _connectionClosed = connection.ConnectionClosed;
        _timeout = CancellationTokenSource.CreateLinkedTokenSource(server.Stopping, connection.ConnectionClosed);
        _timer = server.Time.CreateTimer(static state => ((Pop3Session)state!).TimedOut(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        // A password may cross the connection in clear only where the configuration says, or by default on loopback.
        bool loopback = ConnectionEndpoints.IsLoopback(connection.LocalEndPoint);
        _plaintextAllowed = server.Options.AllowPlaintextWithoutTls ?? loopback;
        _secure = connection.Features.Get<Microsoft.AspNetCore.Connections.Features.ITlsHandshakeFeature>() is not null;
    }

    private bool LoginAllowed => _secure || _plaintextAllowed;

    private void TimedOut()
    {
        _timedOut = true;
        try
        {
            _timeout.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void ArmTimer() => _timer.Change(_server.Options.Timeout, Timeout.InfiniteTimeSpan);

    private void DisarmTimer() => _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    private CancellationToken Token => _timeout.Token;

    public async Task RunAsync()
    {
        _server.Logger.Line(LogLevel.Information, $"connect from [{_client}]");
        _server.Metrics.Opened();
        try
        {
            if (_implicitTls && !await UpgradeAsync().ConfigureAwait(false))
                return;
            _output.Write(_server.Greeting);
            await FlushAsync().ConfigureAwait(false);
            await CommandLoopAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_server.Stopping.IsCancellationRequested)
        {
            _server.Logger.Line(LogLevel.Information, $"lost connection with [{_client}]: the server is stopping");
            await TryWriteAndFlushAsync(Pop3Replies.ShuttingDown.ToArray()).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_connectionClosed.IsCancellationRequested)
        {
            _server.Logger.Line(LogLevel.Information, $"lost connection with [{_client}]");
        }
        catch (OperationCanceledException) when (_timedOut)
        {
            _server.Logger.Line(LogLevel.Information, $"timeout after command from [{_client}]{UserPart}: autologout, nothing deleted");
            await TryWriteAndFlushAsync(Pop3Replies.Autologout.ToArray()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
            _server.Logger.Line(LogLevel.Information, $"lost connection with [{_client}]: {e.Message}");
        }
        finally
        {
            // A session that ends without QUIT deletes nothing (RFC 1939 §6).
            _maildrop?.Dispose();
            if (_tls is not null)
                await _tls.CloseAsync(_server.Time, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            _timer.Dispose();
            _timeout.Dispose();
            _server.Metrics.Closed();
            _server.Logger.Line(LogLevel.Information, $"disconnect from [{_client}]{UserPart}");
        }
    }

    private string UserPart => _user is null ? "" : $" user=<{_user}>";

    private async ValueTask TryWriteAndFlushAsync(byte[] reply)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5), _server.Time);
            await _output.WriteAsync(reply, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or ConnectionResetException)
        {
        }
    }

    private async ValueTask CommandLoopAsync()
    {
        while (true)
        {
            ArmTimer();
            ReadResult result = await _input.ReadAsync(Token).ConfigureAwait(false);
            DisarmTimer();
            ReadOnlySequence<byte> buffer = result.Buffer;
            bool close = false;
            while (!close)
            {
                var reader = new SequenceReader<byte>(buffer);
                LineReadStatus status = _lineReader.TryReadLine(ref reader, MaxLine, out ReadOnlySequence<byte> line);
                if (status == LineReadStatus.NeedMore)
                {
                    buffer = buffer.Slice(reader.Position);
                    break;
                }
                int length = (int)line.Length;
                line.CopyTo(_line);
                buffer = buffer.Slice(reader.Position);
                close = status == LineReadStatus.TooLong
                    ? Error(Pop3Replies.LineTooLong)
                    : await HandleAsync(length).ConfigureAwait(false);
                if (!close && _output.UnflushedBytes >= FlushThreshold)
                    await FlushAsync().ConfigureAwait(false);
                if (_startTls)
                    break;
            }
            if (_startTls)
            {
                _startTls = false;
                // What came after the STLS line was sent in clear before the handshake: dropped, never executed.
                if (!buffer.IsEmpty)
                    _server.Logger.Line(LogLevel.Warning, $"[{_client}] sent {buffer.Length} octets after STLS before the TLS handshake: discarded");
                _input.AdvanceTo(buffer.End);
                await FlushAsync().ConfigureAwait(false);
                if (!await UpgradeAsync().ConfigureAwait(false))
                    return;
                continue;
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
            // Replies are flushed when the input is used up, so a pipelining client gets them in one batch.
            await FlushAsync().ConfigureAwait(false);
            if (close || result.IsCompleted)
                return;
        }
    }

    /// <summary>Sends what was written; a client that does not read blocks it, and the autologout timer ends that.</summary>
    private async ValueTask FlushAsync()
    {
        ArmTimer();
        await _output.FlushAsync(Token).ConfigureAwait(false);
        DisarmTimer();
    }

    /// <summary>Answers an error; true (close) once the client has made too many.</summary>
    private bool Error(ReadOnlySpan<byte> reply)
    {
        if (++_errors >= MaxErrors)
        {
            _output.Write(Pop3Replies.TooManyErrors);
            _server.Logger.Line(LogLevel.Information, $"too many errors from [{_client}]{UserPart}");
            return true;
        }
        _output.Write(reply);
        return false;
    }

    /// <returns>True to close the connection.</returns>
    private ValueTask<bool> HandleAsync(int length)
    {
        ReadOnlySpan<byte> line = _line.AsSpan(0, length);
        if (_awaitingSaslResponse)
            return SaslResponseAsync(line);
        Pop3Verb verb = Pop3CommandParser.Parse(line, out ReadOnlySpan<byte> argument);
        switch (verb)
        {
            case Pop3Verb.Capa:
                bool stls = _state == Pop3State.Authorization && _server.Certificate is not null && !_secure;
                bool login = _state != Pop3State.Authorization || LoginAllowed;
                _output.Write(stls ? (login ? _server.CapabilitiesWithLoginAndStls : _server.CapabilitiesWithoutLoginWithStls)
                    : login ? _server.CapabilitiesWithLogin : _server.CapabilitiesWithoutLogin);
                return False;
            case Pop3Verb.Quit:
                return QuitAsync();
            case Pop3Verb.Noop when _state == Pop3State.Transaction:
                _output.Write(Pop3Replies.Ok);
                return False;
            case Pop3Verb.Unknown:
                return Result(Error(Pop3Replies.UnknownCommand));
        }
        if (_state == Pop3State.Authorization)
        {
            return verb switch
            {
                Pop3Verb.User => Result(User(argument)),
                Pop3Verb.Pass => PassAsync(length),
                Pop3Verb.Auth => AuthAsync(length),
                Pop3Verb.Stls => Result(Stls(argument)),
                Pop3Verb.Apop => Result(Error(Pop3Replies.ApopUnsupported)),
                _ => Result(Error(Pop3Replies.NotInAuthorization)),
            };
        }
        return verb switch
        {
            Pop3Verb.Stat => Result(Stat(argument)),
            Pop3Verb.List => Result(List(argument)),
            Pop3Verb.Uidl => Result(Uidl(argument)),
            Pop3Verb.Dele => Result(Dele(argument)),
            Pop3Verb.Rset => Result(Rset(argument)),
            Pop3Verb.Retr => RetrAsync(argument),
            Pop3Verb.Top => TopAsync(argument),
            _ => Result(Error(Pop3Replies.NotInTransaction)),
        };
    }

    /// <summary>RFC 2595 §4: STLS in AUTHORIZATION, with a certificate and no TLS yet.</summary>
    private bool Stls(ReadOnlySpan<byte> argument)
    {
        if (_server.Certificate is null)
            return Error(Pop3Replies.StlsUnavailable);
        if (_secure)
            return Error(Pop3Replies.StlsActive);
        if (!argument.IsEmpty)
            return Error(Pop3Replies.StlsSyntax);
        _output.Write(Pop3Replies.BeginTls);
        _startTls = true;
        return false;
    }

    /// <summary>The TLS handshake (after STLS, or before the greeting on <c>Pop3:ListenTls</c>), then the session on
    /// the TLS pipes with what it knew forgotten. False when the handshake failed (logged): the connection closes.</summary>
    private async ValueTask<bool> UpgradeAsync()
    {
        ArmTimer();
        try
        {
            _tls = await TlsConnection.AcceptAsync(_connection.Transport, _server.Certificate!, Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException or InvalidOperationException
            || (e is OperationCanceledException && !_server.Stopping.IsCancellationRequested && !_connectionClosed.IsCancellationRequested))
        {
            string reason = e is OperationCanceledException ? "timeout" : e.InnerException?.Message ?? e.Message;
            _server.Logger.Line(LogLevel.Information, $"TLS handshake failed from [{_client}]: {reason}");
            return false;
        }
        finally
        {
            DisarmTimer();
        }
        _input = _tls.Input;
        _output = _tls.Output;
        _secure = true;
        _user = null;
        _awaitingSaslResponse = false;
        _lineReader.Reset();
        _server.Logger.Line(LogLevel.Information, $"Anonymous TLS connection established from [{_client}]: {_tls.Description}");
        return true;
    }

    private static ValueTask<bool> False => new(false);

    private static ValueTask<bool> Result(bool close) => new(close);

    private void WriteNumberLine(ReadOnlySpan<byte> prefix, long first, ReadOnlySpan<byte> middle, long second, ReadOnlySpan<byte> suffix)
    {
        Span<byte> reply = stackalloc byte[128];
        prefix.CopyTo(reply);
        int n = prefix.Length;
        first.TryFormat(reply[n..], out int w, default, System.Globalization.CultureInfo.InvariantCulture);
        n += w;
        middle.CopyTo(reply[n..]);
        n += middle.Length;
        if (second >= 0)
        {
            second.TryFormat(reply[n..], out w, default, System.Globalization.CultureInfo.InvariantCulture);
            n += w;
        }
        suffix.CopyTo(reply[n..]);
        n += suffix.Length;
        _output.Write(reply[..n]);
    }
}
