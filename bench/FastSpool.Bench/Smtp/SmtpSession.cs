// RFC 5321 §3.3 (mail transaction), §4.1.1.5 (RSET), §4.1.1.10 (QUIT); RFC 2920 §3.1 (pipelined groups end at
// DATA; the message text only after 354); RFC 3030 §2-§4 (BDAT n LAST, pipelinable).
using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using FastSpool.Bench.Cli;
using FastSpool.Bench.Messages;
using FastSpool.Bench.Stats;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Bench.Smtp;

/// <summary>
/// One concurrent client: sends the messages it is handed, over a connection per message or one reused connection,
/// and records one outcome per message. Its header copy and write buffer are made once, so the send loop itself
/// allocates nothing.
/// </summary>
internal sealed class SmtpSession : IDisposable
{
    private const int Ready = 0;
    private const int WriteBufferSize = 32 * 1024;

    private readonly SmtpConnection _connection = new(4096);
    private readonly IPEndPoint _server;
    private readonly MessageFactory _factory;
    private readonly BenchStatistics _statistics;
    private readonly bool _helo;
    private readonly bool _reuse;
    private readonly bool _wantPipelining;
    private readonly bool _wantChunking;
    private readonly bool _startTls;
    private readonly bool _implicitTls;
    private readonly string _tlsHost;
    private readonly X509Certificate2Collection? _trust;
    private readonly byte[]? _authPlain;
    private readonly byte[] _header;
    private readonly byte[] _out;
    private bool _pipelining;
    private bool _chunking;
    private long _latency;

    public SmtpSession(SmtpBenchOptions options, IPEndPoint server, MessageFactory factory, BenchStatistics statistics, X509Certificate2Collection? trust = null)
    {
        _server = server;
        _factory = factory;
        _statistics = statistics;
        _helo = options.Helo;
        _reuse = options.Reuse;
        _wantPipelining = options.Pipelining;
        _wantChunking = options.Bdat;
        _startTls = options.StartTls;
        _implicitTls = options.ImplicitTls;
        _tlsHost = options.TlsHost;
        _trust = trust;
        _authPlain = options.AuthUser is null ? null : SmtpWire.AuthPlain(options.AuthUser, options.AuthPassword!);
        _header = factory.HeaderTemplate.ToArray();
        _out = ArrayPool<byte>.Shared.Rent(Math.Max(WriteBufferSize, 2 * _header.Length + 1024));
    }

    public SmtpConnection Connection => _connection;

    /// <summary>Sends message <paramref name="number"/>; the outcome goes to the statistics, never an exception.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(long number)
    {
        MessageBody body = _factory.BodyFor(number);
        int outcome;
        try
        {
            outcome = _connection.IsOpen ? Ready : await OpenAsync();
            if (outcome == Ready)
                outcome = await TransactAsync(number, body);
        }
        catch (Exception e) when (SmtpConnection.IsTransportError(e))
        {
            outcome = _connection.TimedOut ? Failure.Timeout : Failure.Io;
        }

        if (outcome / 100 == 2)
            _statistics.RecordAccepted(_latency, body.MessageLength);
        else
            _statistics.RecordFailure(outcome);

        if (outcome < 0 || outcome == 421)
            _connection.Close();
        else if (!_reuse)
            await QuitAsync();
        else if (outcome / 100 != 2)
            await ResetAsync();
    }

    /// <summary>Ends the session's connection, if one is open, with QUIT.</summary>
    public async ValueTask CloseAsync()
    {
        if (_connection.IsOpen)
            await QuitAsync();
    }

    public void Dispose()
    {
        _connection.Dispose();
        ArrayPool<byte>.Shared.Return(_out);
    }

    /// <summary>Connects, reads the greeting and says EHLO (or HELO); <see cref="Ready"/> or the failure.</summary>
    private async ValueTask<int> OpenAsync()
    {
        try
        {
            await _connection.OpenAsync(_server);
        }
        catch (Exception e) when (SmtpConnection.IsTransportError(e))
        {
            bool timedOut = _connection.TimedOut;
            _connection.Close();
            return timedOut ? Failure.Timeout : Failure.Connect;
        }
        if (_implicitTls)
            await _connection.StartTlsAsync(_tlsHost, _trust);
        int greeting = await _connection.ReadReplyAsync();
        if (greeting != 220)
            return greeting;
        await _connection.WriteAsync(_helo ? SmtpWire.Helo : SmtpWire.Ehlo);
        int hello = await _connection.ReadReplyAsync(readCapabilities: !_helo);
        if (hello / 100 != 2)
            return hello;
        if (_startTls)
        {
            await _connection.WriteAsync(SmtpWire.StartTls);
            int ready = await _connection.ReadReplyAsync();
            if (ready != 220)
                return ready;
            await _connection.StartTlsAsync(_tlsHost, _trust);
            await _connection.WriteAsync(SmtpWire.Ehlo);
            hello = await _connection.ReadReplyAsync(readCapabilities: true);
            if (hello / 100 != 2)
                return hello;
        }
        if (_authPlain is not null)
        {
            await _connection.WriteAsync(_authPlain);
            int auth = await _connection.ReadReplyAsync();
            if (auth != 235)
                return auth;
        }
        _pipelining = _wantPipelining && (_connection.Capabilities & SmtpExtensions.Pipelining) != 0;
        _chunking = _wantChunking && (_connection.Capabilities & SmtpExtensions.Chunking) != 0;
        if (_wantPipelining && !_pipelining)
            _statistics.NoteMissing(SmtpExtensions.Pipelining);
        if (_wantChunking && !_chunking)
            _statistics.NoteMissing(SmtpExtensions.Chunking);
        return Ready;
    }

    /// <summary>
    /// One transaction. Returns the final reply's code when every reply was as expected, otherwise the first
    /// unexpected reply code or <see cref="Failure"/> value. Sets <see cref="_latency"/> on the way.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> TransactAsync(long number, MessageBody body)
    {
        _factory.Stamp(_header, number);
        int mail;
        int rcpt;
        int code;
        if (_pipelining)
        {
            int length = Append(0, _factory.MailCommand);
            length = Append(length, _factory.RcptCommand);
            if (_chunking)
            {
                length = Append(length, body.BdatCommand);
                await WriteMessageAsync(length, body.Text);
                long sent = Stopwatch.GetTimestamp();
                if ((mail = await _connection.ReadReplyAsync()) < 0)
                    return mail;
                if ((rcpt = await _connection.ReadReplyAsync()) < 0)
                    return rcpt;
                code = await _connection.ReadReplyAsync();
                _latency = Stopwatch.GetTimestamp() - sent;
                return FirstUnexpected(mail, 2, rcpt, 2, code, 2);
            }
            length = Append(length, SmtpWire.Data.Span);
            await _connection.WriteAsync(_out.AsMemory(0, length));
            if ((mail = await _connection.ReadReplyAsync()) < 0)
                return mail;
            if ((rcpt = await _connection.ReadReplyAsync()) < 0)
                return rcpt;
            code = await _connection.ReadReplyAsync();
            if (code / 100 != 3)
                return FirstUnexpected(mail, 2, rcpt, 2, code, 3);
            if (mail / 100 != 2 || rcpt / 100 != 2)
            {
                // 354 although the envelope failed: end the empty message, report the envelope's reply.
                await _connection.WriteAsync(SmtpWire.EndOfData);
                code = await _connection.ReadReplyAsync();
                return code < 0 ? code : FirstUnexpected(mail, 2, rcpt, 2, code, 2);
            }
        }
        else
        {
            await _connection.WriteAsync(_factory.MailCommand);
            if ((code = await _connection.ReadReplyAsync()) / 100 != 2)
                return code;
            await _connection.WriteAsync(_factory.RcptCommand);
            if ((code = await _connection.ReadReplyAsync()) / 100 != 2)
                return code;
            if (_chunking)
            {
                await WriteMessageAsync(Append(0, body.BdatCommand), body.Text);
                long sent = Stopwatch.GetTimestamp();
                code = await _connection.ReadReplyAsync();
                _latency = Stopwatch.GetTimestamp() - sent;
                return code;
            }
            await _connection.WriteAsync(SmtpWire.Data);
            if ((code = await _connection.ReadReplyAsync()) / 100 != 3)
                return code;
        }

        // 354: the text, in this method rather than a helper so that no second state machine is rented per message.
        await WriteMessageAsync(0, body.DataText);
        long textSent = Stopwatch.GetTimestamp();
        code = await _connection.ReadReplyAsync();
        _latency = Stopwatch.GetTimestamp() - textSent;
        return code;
    }

    /// <summary>
    /// Writes the first <paramref name="length"/> bytes of the write buffer, the stamped header and
    /// <paramref name="text"/>: one write when they fit in the buffer, else the shared body is written as it is.
    /// </summary>
    private ValueTask WriteMessageAsync(int length, ReadOnlyMemory<byte> text)
    {
        length = Append(length, _header);
        if (length + text.Length <= _out.Length)
        {
            text.Span.CopyTo(_out.AsSpan(length));
            return _connection.WriteAsync(_out.AsMemory(0, length + text.Length));
        }
        ValueTask head = _connection.WriteAsync(_out.AsMemory(0, length));
        return head.IsCompletedSuccessfully ? _connection.WriteAsync(text) : WriteRestAsync(head, text);
    }

    private async ValueTask WriteRestAsync(ValueTask head, ReadOnlyMemory<byte> text)
    {
        await head;
        await _connection.WriteAsync(text);
    }

    private async ValueTask QuitAsync()
    {
        try
        {
            await _connection.WriteAsync(SmtpWire.Quit);
            await _connection.ReadReplyAsync();
        }
        catch (Exception e) when (SmtpConnection.IsTransportError(e))
        {
            // The message's outcome is already counted; a lost QUIT reply changes nothing.
        }
        _connection.Close();
    }

    /// <summary>After a refused transaction on a reused connection: RSET, or a fresh connection if that fails.</summary>
    private async ValueTask ResetAsync()
    {
        try
        {
            await _connection.WriteAsync(SmtpWire.Rset);
            if (await _connection.ReadReplyAsync() / 100 == 2)
                return;
        }
        catch (Exception e) when (SmtpConnection.IsTransportError(e))
        {
        }
        _connection.Close();
    }

    private int Append(int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_out.AsSpan(at));
        return at + bytes.Length;
    }

    private static int FirstUnexpected(int first, int firstClass, int second, int secondClass, int last, int lastClass)
    {
        if (first / 100 != firstClass)
            return first;
        if (second / 100 != secondClass)
            return second;
        return last;
    }
}
