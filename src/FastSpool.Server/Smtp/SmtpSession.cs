// RFC 5321 (SMTP) server side: §3 transactions, §4.1 commands, §4.2 replies, §4.5.3 limits and timeouts;
// RFC 2920 (PIPELINING), RFC 1870 (SIZE), RFC 6152 (8BITMIME), RFC 2034/3463 (ENHANCEDSTATUSCODES),
// RFC 6531 (SMTPUTF8), RFC 3030 (CHUNKING/BDAT), RFC 3848 (ESMTPSA in Received). STARTTLS and AUTH are in the
// partial files beside this one.
using FastSpool.Logging;
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using FastSpool.Protocols.Smtp;
using FastSpool.Queue;
using FastSpool.Server.Logging;
using FastSpool.Users;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Smtp;

/// <summary>One SMTP connection. State is allocated once per connection and reset per transaction; commands are
/// parsed from the pipe's buffers without a string per command. Message text is streamed into pooled chunk
/// buffers that become queue records; the reply to the end of data is sent only after the envelope's commit.</summary>
internal sealed partial class SmtpSession
{
    private const int MaxCommandLine = 512;

    // RFC 3461 §5: DSN parameters lengthen MAIL by up to 100 octets (ENVID, RET) and RCPT by up to 500 (ORCPT, NOTIFY).
    private const int MaxMailLine = MaxCommandLine + 100;
    private const int MaxRcptLine = MaxCommandLine + 500;
    private const int MaxEnvelopeId = 100;
    private const int MaxOriginalRecipient = 500;
    private const int ReplyBufferHint = 256;

    /// <summary>Replies a client has not taken yet, at most: the session's own unflushed replies, and as much again in
    /// the transport's output. A client that pipelines commands and does not read the replies (RFC 2920 §3.1 asks it
    /// to) makes the session wait for it, and so stop reading its commands, instead of making it buffer.</summary>
    internal const int MaxUnsentReplies = 64 * 1024;

    /// <summary>The transport's output buffer per connection before a flush waits (Kestrel's default).</summary>
    internal const int MaxOutputBuffer = 64 * 1024;

    /// <summary>Input the transport reads ahead of the session per connection: a few command batches or message
    /// chunks. Kestrel's default, 1 MiB, would let clients that never read their replies hold a megabyte each.</summary>
    internal const int MaxInputBuffer = 64 * 1024;

    private readonly SmtpServerContext _server;
    // The connection's pipes, or after STARTTLS those of its TLS stream.
    private PipeReader _input;
    private PipeWriter _output;
    private readonly ConnectionContext _connection;
    private readonly bool _localIsLoopback;
    private readonly string _clientAddress;
    private readonly IPAddress? _clientIp;
    private readonly byte[] _clientAddressBytes;
    private readonly CancellationTokenSource _timeout;
    private readonly ITimer _timer;
    private readonly CancellationToken _connectionClosed;
    private readonly SmtpListener _listener;

    // A local submission (the sendmail socket): the submitter's uid as the kernel gave it; null for TCP clients.
    private readonly uint? _submitter;

    private readonly SessionBuffers _buffers;
    private readonly byte[] _lineBuffer;
    private readonly byte[] _helo;
    private readonly byte[] _sender;
    private readonly RecipientList _recipients;
    private readonly MessageWriter _writer;
    private CommandLineReader _lineReader;

    // Session state (RFC 5321 §4.1.4).
    private int _heloLength;
    private bool _greeted;
    private bool _extended;
    private int _errors;
    private int _messages;

    // When the wait for the next command line began: the reply to the one before (RFC 5321 §4.5.3.2 times a
    // command, not an octet).
    private long _lineStarted;

    // Transaction state, reset by RSET, EHLO and the end of each message.
    private bool _mailGiven;
    private int _senderLength;
    private bool _eightBitMime;
    private bool _smtpUtf8;
    private DsnReturn _return;
    private int _envelopeIdLength;
    private bool _rcptAttempted;

    // Message reception.
    private ReceiveMode _mode;
    private MessageTextScanner _scanner;
    private SmtpVerb _stage;
    private long _dataStarted;
    private long _dataBytes;
    private long _bdatRemaining;
    private long _chunkSize;
    private bool _bdatLast;
    private bool _bdatUsed;
    private byte _lastByte;
    private byte _beforeLastByte;

    /// <param name="submitter">For the sendmail socket: the uid of the local user at the other end (SO_PEERCRED).
    /// Such a session is a local submission: it may relay as the trusted networks may, its messages come from the
    /// door <see cref="MessageOrigin.Sendmail"/> with sendmail's trace header, and it is not made to wait for a
    /// greeting pause.</param>
    public SmtpSession(SmtpServerContext server, ConnectionContext connection, IPAddress? clientAddress, SmtpListener listener, uint? submitter = null)
    {
        _server = server;
        _connection = connection;
        _localIsLoopback = ConnectionEndpoints.IsLoopback(connection.LocalEndPoint);
        _listener = listener;
        _submitter = submitter;
        _input = connection.Transport.Input;
        _output = connection.Transport.Output;
        _clientIp = clientAddress;
        _clientAddress = submitter is { } uid ? $"local uid {uid}"
            : clientAddress?.ToString() ?? connection.RemoteEndPoint?.ToString() ?? "unknown";
        _clientAddressBytes = Encoding.ASCII.GetBytes(_clientAddress);
        _connectionClosed = connection.ConnectionClosed;
        _buffers = SessionBuffers.Rent();
        (_lineBuffer, _helo, _sender, _recipients) = (_buffers.Line, _buffers.Helo, _buffers.Sender, _buffers.Recipients);
        _writer = server.Queue.RentWriter();
        _timeout = CancellationTokenSource.CreateLinkedTokenSource(server.Stopping, connection.ConnectionClosed);
        _timer = server.Time.CreateTimer(static state => ((SmtpSession)state!).TimedOut(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private void TimedOut()
    {
        try
        {
            _timeout.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended as the timer fired.
        }
    }

    /// <summary>Cancels the session's waits after <paramref name="timeout"/> of the server's clock.</summary>
    private void ArmTimer(TimeSpan timeout) => _timer.Change(timeout, Timeout.InfiniteTimeSpan);

    private void DisarmTimer() => _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <summary>The per-connection buffers, kept for the next connection instead of being allocated for each.</summary>
    private sealed class SessionBuffers
    {
        private static readonly BoundedPool<SessionBuffers> Pool = new(() => new SessionBuffers(), 256);

        public readonly byte[] Line = new byte[MaxAuthLine];
        public readonly byte[] EnvelopeId = new byte[MaxEnvelopeId];
        public readonly byte[] OriginalRecipient = new byte[MaxOriginalRecipient];
        public readonly byte[] Helo = new byte[MaxCommandLine];
        public readonly byte[] Sender = new byte[MaxCommandLine];
        public readonly RecipientList Recipients = new();

        public static SessionBuffers Rent() => Pool.Rent();

        public static void Return(SessionBuffers buffers)
        {
            buffers.Recipients.Clear();
            Pool.Return(buffers);
        }
    }

    private enum ReceiveMode : byte { Command, Data, Bdat, BdatDiscard }

    private enum Step : byte { NeedMore, Continue, AppendChunk, Commit, Close, StartTls, AuthFailed }

    public async Task RunAsync()
    {
        _listener.Statistics.SessionOpened();
        _server.Logger.Line(LogLevel.Information, $"connect from [{_clientAddress}]");
        try
        {
            if ((!_listener.ImplicitTls || await UpgradeAsync().ConfigureAwait(false)) && await GreetAsync().ConfigureAwait(false))
                await CommandLoopAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_server.Stopping.IsCancellationRequested)
        {
            _server.Logger.Line(LogLevel.Information,
                $"lost connection after {(InMessage ? "END-OF-MESSAGE" : StageNames[(int)_stage])} from [{_clientAddress}]: the server is stopping");
            await TryWriteAndFlushAsync(ReplyWithHost("421 4.3.2 "u8, SmtpReplies.ShuttingDownText)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_connectionClosed.IsCancellationRequested)
        {
            _server.Logger.Line(LogLevel.Information, $"lost connection with [{_clientAddress}]");
        }
        catch (OperationCanceledException) when (_timeout.IsCancellationRequested)
        {
            _server.Logger.Line(LogLevel.Information, $"timeout after {(InMessage ? "message data" : "command")} from [{_clientAddress}]");
            await TryWriteAndFlushAsync(ReplyWithHost("421 4.4.2 "u8, SmtpReplies.TimeoutText)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
            _server.Logger.Line(LogLevel.Information, $"lost connection with [{_clientAddress}]: {e.Message}");
        }
        finally
        {
            await CloseTlsAsync().ConfigureAwait(false);
            AbortMessage();
            _timer.Dispose();
            _timeout.Dispose();
            SessionBuffers.Return(_buffers);
            _server.Queue.ReturnWriter(_writer);
            _listener.Statistics.SessionClosed();
            _server.Logger.Line(LogLevel.Information, $"disconnect from [{_clientAddress}] messages={_messages} errors={_errors}");
        }
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> GreetAsync()
    {
        if (_server.Options.GreetPause > TimeSpan.Zero && _submitter is null)
            await Task.Delay(_server.Options.GreetPause, _server.Time, _timeout.Token).ConfigureAwait(false);
        // A client that talks before the greeting is not waiting for replies (RFC 5321 §4.3.1).
        // A local submitter (sendmail -bs fed from a file) may write its whole session at once.
        if (_submitter is null && _input.TryRead(out ReadResult early))
        {
            bool talked = !early.Buffer.IsEmpty;
            _input.AdvanceTo(early.Buffer.Start);
            if (talked)
            {
                _server.Logger.LogInformation("reject: pre-greeting traffic from [{Client}]: 554 5.5.0 Error: SMTP protocol synchronization", _clientAddress);
                _server.Metrics.Rejected("CONNECT", SmtpReplies.ProtocolSynchronization);
                await TryWriteAndFlushAsync(SmtpReplies.ProtocolSynchronization.ToArray()).ConfigureAwait(false);
                return false;
            }
        }
        _output.Write(_server.Greeting);
        await _output.FlushAsync(_timeout.Token).ConfigureAwait(false);
        _lineStarted = _server.Time.GetTimestamp();
        return true;
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask CommandLoopAsync()
    {
        while (true)
        {
            ArmTimeout();
            ReadResult result = await _input.ReadAsync(_timeout.Token).ConfigureAwait(false);
            DisarmTimer();
            ReadOnlySequence<byte> buffer = result.Buffer;
            bool close = false;
            bool progressed = false;
            long afterStartTls = -1;
            while (!close && afterStartTls < 0)
            {
                Step step = Process(ref buffer);
                if (step == Step.NeedMore)
                    break;
                progressed = true;
                switch (step)
                {
                    case Step.Continue:
                        if (RepliesBacklogged)
                            await FlushRepliesAsync().ConfigureAwait(false);
                        break;
                    case Step.AppendChunk:
                        await AppendChunkAsync().ConfigureAwait(false);
                        break;
                    case Step.Commit:
                    {
                        // Awaited here, in the session's own state machine: a method of its own would box one per
                        // message.
                        (QueueId id, long size) = (_writer.Id, _writer.Size);
                        Seal();
                        QueuedMessage? committed;
                        try
                        {
                            committed = await _writer.CommitAsync().ConfigureAwait(false);
                        }
                        catch (QueueUnavailableException e)
                        {
                            committed = null;
                            _server.Logger.LogError("{Id}: queue write failed, message refused with 451: {Reason}", id, e.Message);
                            FailMessage(SmtpReplies.QueueWriteError);
                        }
                        if (committed is not null)
                            Committed(id, size, committed);
                        break;
                    }
                    case Step.Close:
                        close = true;
                        break;
                    case Step.AuthFailed:
                        close = await AuthFailedAsync().ConfigureAwait(false);
                        break;
                    case Step.StartTls:
                        // What came behind STARTTLS is dropped unread (CVE-2011-0411).
                        afterStartTls = buffer.Length;
                        buffer = buffer.Slice(buffer.End);
                        break;
                }
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
            // Replies are flushed when the input is used up, so a pipelining client gets them in one batch.
            await FlushRepliesAsync().ConfigureAwait(false);
            if (close)
                return;
            if (afterStartTls >= 0)
            {
                LogDiscardedAfterStartTls(afterStartTls);
                if (!await UpgradeAsync().ConfigureAwait(false))
                    return;
                _lineStarted = _server.Time.GetTimestamp();
                continue;
            }
            // A slow client's message must not keep the log behind it from being reclaimed.
            if (_writer.FallenBehind)
                await MoveMessageForwardAsync().ConfigureAwait(false);
            // A line that was only partly read keeps the clock that its first octet found running.
            if (progressed || _mode != ReceiveMode.Command)
                _lineStarted = _server.Time.GetTimestamp();
            if (result.IsCompleted)
            {
                if (_mode != ReceiveMode.Command)
                    _server.Logger.Line(LogLevel.Information, $"lost connection after {(_mode == ReceiveMode.Data ? "DATA" : "BDAT")} from [{_clientAddress}]");
                return;
            }
        }
    }

    /// <summary>True once the replies not yet flushed reach <see cref="MaxUnsentReplies"/>: the session flushes
    /// before it reads on, and the flush waits while the transport's buffer is full.</summary>
    private bool RepliesBacklogged => !_output.CanGetUnflushedBytes || _output.UnflushedBytes >= MaxUnsentReplies;

    /// <summary>Sends the replies written so far. A client that does not read them blocks the flush, and the session
    /// with it: the command timeout ends that.</summary>
    private ValueTask<FlushResult> FlushRepliesAsync()
    {
        ArmTimer(_server.Options.Timeout);
        ValueTask<FlushResult> flush = _output.FlushAsync(_timeout.Token);
        if (flush.IsCompletedSuccessfully)
        {
            DisarmTimer();
            return flush;
        }
        return AwaitFlushAsync(flush);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> AwaitFlushAsync(ValueTask<FlushResult> flush)
    {
        FlushResult result = await flush.ConfigureAwait(false);
        DisarmTimer();
        return result;
    }

    /// <summary>A message is being received: DATA, or a BDAT message from its first chunk until its last.</summary>
    private bool InMessage => _mode != ReceiveMode.Command || _bdatUsed;

    /// <summary>Arms the timeout for the next read. A command line must be complete within the timeout of the reply
    /// before it, however its octets trickle in. Message text may pause for the timeout between reads, and must keep
    /// up the minimum data rate overall: from DATA, or the first BDAT chunk, with chunk headers and the gaps between
    /// chunks counted as time (a trickling client is cut off like an idle one).</summary>
    private void ArmTimeout()
    {
        TimeSpan timeout = _server.Options.Timeout;
        if (_mode == ReceiveMode.Command)
            timeout -= _server.Time.GetElapsedTime(_lineStarted);
        if (InMessage && _server.Options.MinDataRate > 0)
        {
            TimeSpan elapsed = _server.Time.GetElapsedTime(_dataStarted);
            TimeSpan allowed = _server.Options.Timeout + TimeSpan.FromSeconds((double)_dataBytes / _server.Options.MinDataRate);
            TimeSpan left = allowed - elapsed;
            if (left < timeout)
                timeout = left;
        }
        ArmTimer(timeout > TimeSpan.Zero ? timeout : TimeSpan.FromTicks(1));
    }

    private Step Process(ref ReadOnlySequence<byte> buffer) => _mode switch
    {
        ReceiveMode.Command => ProcessCommand(ref buffer),
        ReceiveMode.Data => ProcessData(ref buffer),
        _ => ProcessBdat(ref buffer),
    };

    private Step ProcessCommand(ref ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        LineReadStatus status = _lineReader.TryReadLine(ref reader, MaxAuthLine, out ReadOnlySequence<byte> line);
        buffer = buffer.Slice(reader.Position);
        switch (status)
        {
            case LineReadStatus.NeedMore:
                return Step.NeedMore;
            case LineReadStatus.TooLong:
                EndExchange();
                return Reject(SmtpReplies.LineTooLong);
            case LineReadStatus.BareLf:
                EndExchange();
                return Reject(SmtpReplies.CommandBareLf);
        }
        ReadOnlySpan<byte> span;
        if (line.IsSingleSegment)
        {
            span = line.FirstSpan;
        }
        else
        {
            line.CopyTo(_lineBuffer);
            span = _lineBuffer.AsSpan(0, (int)line.Length);
        }
        if (_authStep != AuthStep.None)
        {
            // A response to a 334 is answered before the client may send more (RFC 4954 §4).
            return buffer.IsEmpty ? AuthResponse(span) : ProtocolViolation(SmtpVerb.Auth);
        }
        return HandleCommand(span, moreInput: !buffer.IsEmpty);
    }

    private Step HandleCommand(ReadOnlySpan<byte> line, bool moreInput)
    {
        SmtpVerb verb = SmtpCommandParser.ParseVerb(line, out ReadOnlySpan<byte> argument);
        _stage = verb;
        // The line (without its CRLF) against the verb's own limit: only MAIL and RCPT may be longer than 512.
        int limit = verb switch { SmtpVerb.Mail => MaxMailLine, SmtpVerb.Rcpt => MaxRcptLine, SmtpVerb.Auth => MaxAuthLine, _ => MaxCommandLine };
        if (line.Length + 2 > limit)
            return Reject(SmtpReplies.LineTooLong);
        // RFC 2920 §3.1: EHLO, DATA, VRFY, EXPN, NOOP and QUIT end a pipelined group; without PIPELINING (a HELO client) no
        // command may be pipelined at all. Text behind them is a client that does not wait for replies.
        // What follows STARTTLS is not an error to answer but input to drop (see StartTls).
        if (moreInput && verb != SmtpVerb.StartTls && _submitter is null && (!_extended || verb is SmtpVerb.Ehlo or SmtpVerb.Helo or SmtpVerb.Data or SmtpVerb.Quit or SmtpVerb.Noop
            or SmtpVerb.Vrfy or SmtpVerb.Expn or SmtpVerb.Auth))
        {
            if (verb != SmtpVerb.Quit)
                return ProtocolViolation(verb);
        }
        switch (verb)
        {
            case SmtpVerb.Ehlo:
            case SmtpVerb.Helo:
                return Helo(argument, verb == SmtpVerb.Ehlo);
            case SmtpVerb.Mail:
                return Mail(argument);
            case SmtpVerb.Rcpt:
                return Rcpt(argument);
            case SmtpVerb.Data:
                return argument.IsEmpty ? Data() : Reject(SmtpReplies.NoArguments);
            case SmtpVerb.Bdat:
                return Bdat(argument);
            case SmtpVerb.Rset:
                if (!argument.IsEmpty)
                    return Reject(SmtpReplies.NoArguments);
                ResetTransaction();
                return Reply(SmtpReplies.Ok);
            case SmtpVerb.Noop:
                return Reply(SmtpReplies.Ok);
            case SmtpVerb.Quit:
                _output.Write(SmtpReplies.Closing);
                return Step.Close;
            case SmtpVerb.Vrfy when _submitter is not null && !argument.IsEmpty:
                return Reply(LocalVerify.Answer(_server, argument));
            case SmtpVerb.Vrfy:
                return argument.IsEmpty ? Reject("501 5.5.4 Syntax: VRFY address\r\n"u8) : Reply(SmtpReplies.Vrfy);
            case SmtpVerb.Help:
                return Reply(SmtpReplies.Help);
            case SmtpVerb.StartTls:
                return StartTls(argument);
            case SmtpVerb.Auth:
                return Auth(argument);
            case SmtpVerb.Expn:
                return Reject(SmtpReplies.NotImplemented);
            default:
                return Reject(SmtpReplies.CommandUnrecognized);
        }
    }

    private Step Helo(ReadOnlySpan<byte> argument, bool extended)
    {
        if (!SmtpCommandParser.IsValidHeloArgument(argument))
            return Reject(extended ? SmtpReplies.EhloSyntax : SmtpReplies.HeloSyntax);
        ResetTransaction();
        argument.CopyTo(_helo);
        _heloLength = argument.Length;
        _greeted = true;
        _extended = extended;
        _output.Write(extended ? _server.EhloReply(StartTlsOffered, AuthOffered, PlusOffered) : _server.HeloReply);
        return Step.Continue;
    }

    private Step Mail(ReadOnlySpan<byte> argument)
    {
        if (!_greeted)
            return Reject(SmtpReplies.SendHeloFirst);
        if (_mailGiven)
            return Reject(SmtpReplies.NestedMail);
        if (_listener.RequiresAuth && !Authenticated)
            return Reject(SmtpReplies.AuthRequired, sender: GivenSender(argument));
        ArgumentError error = SmtpCommandParser.TryParseMailFrom(argument, out MailFromCommand mail);
        if (error != ArgumentError.None)
            return RejectArgument(error, SmtpReplies.MailSyntax, SmtpReplies.BadSender, SmtpReplies.SenderTooLong, mail.GetError(argument), GivenSender(argument));
        ReadOnlySpan<byte> path = mail.GetReversePath(argument);
        if (!_extended && (mail.Size >= 0 || mail.Body != BodyType.Unspecified || mail.SmtpUtf8 || mail.Ret != DsnReturn.Unspecified || mail.EnvIdLength > 0 || mail.Auth))
            return Reject(SmtpReplies.NoExtensions, sender: path);
        if (_listener.RequiresAuth && _server.Options.SenderLoginMatch && !SenderOwned(path))
            return RejectNotOwned(path);
        if (mail.Size > _server.Options.MaxMessageSize)
            return Reject(SmtpReplies.DeclaredSizeTooBig, sender: path);
        if (!_server.Queue.IsHealthy)
            return Reject(SmtpReplies.QueueWriteError, sender: path);
        path.CopyTo(_sender);
        _senderLength = path.Length;
        _eightBitMime = mail.Body == BodyType.EightBitMime;
        _smtpUtf8 = mail.SmtpUtf8;
        _return = mail.Ret;
        _envelopeIdLength = mail.EnvIdLength > 0 ? Math.Max(0, Xtext.Decode(mail.GetEnvId(argument), _buffers.EnvelopeId)) : 0;
        _mailGiven = true;
        return Reply(SmtpReplies.MailOk);
    }

    private Step Rcpt(ReadOnlySpan<byte> argument)
    {
        if (!_mailGiven)
            return Reject(SmtpReplies.NeedMail);
        // The first chunk fixed the recipients (its Received header may name the only one); BDAT stands in for DATA.
        if (_bdatUsed)
            return Reject(SmtpReplies.RcptAfterBdat);
        _rcptAttempted = true;
        ArgumentError error = SmtpCommandParser.TryParseRcptTo(argument, _smtpUtf8, out RcptToCommand rcpt);
        if (error != ArgumentError.None)
            return RejectArgument(error, SmtpReplies.RcptSyntax, SmtpReplies.BadRecipient, SmtpReplies.RecipientTooLong, rcpt.GetError(argument));
        if (!_extended && (rcpt.Notify != DsnNotify.None || rcpt.OrcptLength > 0))
            return Reject(SmtpReplies.NoExtensions);
        ReadOnlySpan<byte> path = rcpt.GetForwardPath(argument);
        if (_recipients.Count >= _server.Options.MaxRecipients)
            return Reject(SmtpReplies.TooManyRecipients);
        if (!rcpt.IsBarePostmaster)
        {
            RelayPolicy relay = _server.Relay;
            switch (relay.Decide(rcpt.GetLocalPart(argument), rcpt.GetDomain(argument), _submitter is not null || relay.MayRelay(_clientIp, Authenticated)))
            {
                case RelayDecision.Denied:
                    return RejectAddress("454 4.7.1 <"u8, path, SmtpReplies.RelayDeniedText);
                case RelayDecision.NotConfigured:
                    return RejectAddress("550 5.7.1 <"u8, path, SmtpReplies.RelayNotConfiguredText);
                case RelayDecision.Relay:
                    break;
                default:
                    if (CheckLocalPart(rcpt.GetLocalPart(argument), path) is { } refused)
                        return refused;
                    break;
            }
        }
        if (!_recipients.Contains(path))
        {
            ReadOnlySpan<byte> given = rcpt.GetOriginalRecipient(argument);
            int orcpt;
            if (!Utf8AddrXtext.IsUtf8Type(given))
            {
                orcpt = given.IsEmpty ? 0 : Xtext.Decode(given, _buffers.OriginalRecipient);
            }
            else
            {
                // RFC 6533: kept decoded, its \x{HEX} escapes turned into UTF-8 (utf-8-addr-xtext and its raw form,
                // utf-8-addr-unitext, have no +XX).
                given.CopyTo(_buffers.OriginalRecipient);
                orcpt = Utf8AddrXtext.DecodeInPlace(_buffers.OriginalRecipient.AsSpan(0, given.Length));
            }
            _recipients.Add(path, _buffers.OriginalRecipient.AsSpan(0, Math.Max(0, orcpt)), rcpt.Notify);
        }
        return Reply(SmtpReplies.RcptOk);
    }

    /// <summary>The refusal for a local part that is not deliverable; null when it is.</summary>
    private Step? CheckLocalPart(ReadOnlySpan<byte> localPart, ReadOnlySpan<byte> path) => _server.Recipients.Check(localPart) switch
    {
        LocalPartCheck.Deliverable => null,
        LocalPartCheck.AliasLoop => RejectAddress("550 5.4.6 <"u8, path, SmtpReplies.AliasLoopText),
        LocalPartCheck.AliasOnlyRemote => RejectAddress("550 5.4.4 <"u8, path, SmtpReplies.AliasOnlyRemoteText),
        LocalPartCheck.AliasToNobody => RejectAddress("550 5.1.1 <"u8, path, SmtpReplies.AliasToNobodyText),
        _ => RejectAddress("550 5.1.1 <"u8, path, SmtpReplies.UserUnknownText),
    };

    private Step Data()
    {
        if (!_mailGiven)
            return Reject(SmtpReplies.NeedMail);
        if (_recipients.Count == 0)
            return Reject(_rcptAttempted ? SmtpReplies.NoValidRecipients : SmtpReplies.NeedRcpt);
        if (_bdatUsed)
            return Reject(SmtpReplies.MixedDataBdat);
        BeginMessage();
        _scanner = MessageTextScanner.ForData(_server.Options.MaxLineLength);
        _mode = ReceiveMode.Data;
        return Reply(SmtpReplies.StartMailInput);
    }

    private Step Bdat(ReadOnlySpan<byte> argument)
    {
        if (SmtpCommandParser.TryParseBdat(argument, out long size, out bool last) != BdatParseResult.Ok)
        {
            // Without a valid size the chunk's end is unknown: the session cannot stay in step.
            _server.Metrics.Rejected(StageNames[(int)SmtpVerb.Bdat], SmtpReplies.BdatSyntax);
            _output.Write(SmtpReplies.BdatSyntax);
            return Step.Close;
        }
        _bdatRemaining = size;
        _bdatLast = last;
        _chunkSize = size;
        if (!_mailGiven || _recipients.Count == 0 || (!_writer.IsOpen && _bdatUsed))
        {
            // A chunk outside a message is timed on its own; the chunks of a message that failed, with the message.
            if (!_bdatUsed)
            {
                _dataStarted = _server.Time.GetTimestamp();
                _dataBytes = 0;
            }
            _mode = ReceiveMode.BdatDiscard;
            return Step.Continue;
        }
        if (!_bdatUsed)
        {
            _bdatUsed = true;
            BeginMessage();
            _scanner = MessageTextScanner.ForBdat(_server.Options.MaxLineLength);
        }
        _mode = ReceiveMode.Bdat;
        return Step.Continue;
    }

    private void BeginMessage()
    {
        _writer.Begin(_server.Time.GetUtcNow(), _server.Options.MaxMessageSize);
        _dataStarted = _server.Time.GetTimestamp();
        _dataBytes = 0;
        _lastByte = (byte)'\n';
        _beforeLastByte = (byte)'\r';
        _writer.AdvanceTrace(_submitter is { } uid
            ? ReceivedHeader.WriteLocal(_writer.FreeSpace, _server.Hostname, uid, _writer.Id, _writer.Arrival)
            : ReceivedHeader.Write(_writer.FreeSpace, ReceivedFields()));
    }

    private ReceivedHeader.Fields ReceivedFields() => new()
    {
        Helo = _helo.AsSpan(0, _heloLength),
        ClientAddress = _clientAddressBytes,
        Hostname = _server.Hostname,
        Protocol = Protocol,
        Id = _writer.Id,
        Recipient = _recipients.Count == 1 ? _recipients[0] : default,
        Time = _writer.Arrival,
        Tls = _tls is not null && _server.Options.ReceivedTlsCipher ? _tls.DescriptionBytes : default,
        AuthenticatedSender = _server.Options.ReceivedAuthenticatedSender ? _authenticatedUserBytes : default,
    };

    /// <summary>The Received header's "with" (RFC 3848, RFC 6531 §4.3): ESMTP, and S for TLS, A for AUTH.</summary>
    private ReadOnlySpan<byte> Protocol => (_smtpUtf8, _extended, Secure, Authenticated) switch
    {
        (true, _, false, false) => "UTF8SMTP"u8,
        (true, _, true, false) => "UTF8SMTPS"u8,
        (true, _, false, true) => "UTF8SMTPA"u8,
        (true, _, true, true) => "UTF8SMTPSA"u8,
        (false, false, _, _) => "SMTP"u8,
        (false, true, false, false) => "ESMTP"u8,
        (false, true, true, false) => "ESMTPS"u8,
        (false, true, false, true) => "ESMTPA"u8,
        _ => "ESMTPSA"u8,
    };

    /// <summary>The rest of the message is read and thrown away (too big, or the queue failed): the client is
    /// answered at the end of the data, where it listens.</summary>
    private bool Discarding => _writer.Discarding;

    private Span<byte> ChunkSpace => _writer.FreeSpace;

    private Step ProcessData(ref ReadOnlySequence<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            ReadOnlySpan<byte> input = buffer.FirstSpan;
            TextScanStatus status = _scanner.Scan(input, ChunkSpace, out int consumed, out int written);
            buffer = buffer.Slice(consumed);
            _dataBytes += consumed;
            Account(written);
            switch (status)
            {
                case TextScanStatus.NeedMoreInput:
                    continue;
                case TextScanStatus.OutputFull:
                    if (!Discarding)
                        return Step.AppendChunk;
                    continue;
                case TextScanStatus.EndOfData:
                    _mode = ReceiveMode.Command;
                    return FinishMessage();
                default:
                    return BadMessageText(status);
            }
        }
        return Step.NeedMore;
    }

    private Step ProcessBdat(ref ReadOnlySequence<byte> buffer)
    {
        while (_bdatRemaining > 0)
        {
            if (buffer.IsEmpty)
                return Step.NeedMore;
            ReadOnlySpan<byte> input = buffer.FirstSpan;
            if (input.Length > _bdatRemaining)
                input = input[..(int)_bdatRemaining];
            int consumed;
            if (_mode == ReceiveMode.BdatDiscard)
            {
                consumed = input.Length;
            }
            else
            {
                TextScanStatus status = _scanner.Scan(input, ChunkSpace, out consumed, out int written);
                Account(written);
                if (status is TextScanStatus.BareCr or TextScanStatus.BareLf or TextScanStatus.Nul)
                    return BadMessageText(status);
                if (status == TextScanStatus.OutputFull && !Discarding)
                {
                    buffer = buffer.Slice(consumed);
                    _bdatRemaining -= consumed;
                    _dataBytes += consumed;
                    return Step.AppendChunk;
                }
            }
            buffer = buffer.Slice(consumed);
            _bdatRemaining -= consumed;
            _dataBytes += consumed;
        }

        if (_mode == ReceiveMode.BdatDiscard)
        {
            _mode = ReceiveMode.Command;
            return Reject(!_mailGiven ? SmtpReplies.NeedMail : _recipients.Count == 0 ? (_rcptAttempted ? SmtpReplies.NoValidRecipients : SmtpReplies.NeedRcpt) : SmtpReplies.NeedMail);
        }
        if (!_bdatLast)
        {
            _mode = ReceiveMode.Command;
            if (Discarding)
            {
                // RFC 3030 §2: after an error the rest of the transaction's chunks are discarded.
                return FailMessage(_writer.TooBig ? SmtpReplies.MessageTooBig : SmtpReplies.QueueWriteError);
            }
            return ChunkAccepted();
        }
        if (_scanner.Finish() != TextScanStatus.EndOfData)
            return BadMessageText(TextScanStatus.BareCr);
        if (!Discarding && !(_beforeLastByte == '\r' && _lastByte == '\n'))
        {
            // A BDAT message must end with a line end; add one rather than store a truncated last line.
            if (ChunkSpace.Length < 2)
                return Step.AppendChunk; // makes room; the LAST chunk is finished on the next pass
            "\r\n"u8.CopyTo(ChunkSpace);
            Account(2);
        }
        _mode = ReceiveMode.Command;
        return FinishMessage();
    }

    private Step ChunkAccepted()
    {
        SmtpReplyWriter.WriteChunkAccepted(_output, _chunkSize);
        return Step.Continue;
    }

    private void Account(int written)
    {
        if (written == 0)
            return;
        if (!Discarding)
        {
            ReadOnlySpan<byte> data = ChunkSpace[..written];
            _beforeLastByte = written >= 2 ? data[^2] : _lastByte;
            _lastByte = data[^1];
        }
        _writer.Advance(written);
    }

    private Step FinishMessage()
    {
        if (_writer.TooBig)
            return FailMessage(SmtpReplies.MessageTooBig);
        if (_writer.StoreFailed)
            return FailMessage(SmtpReplies.QueueWriteError);
        if (_scanner.LineTooLong)
            return FailMessage(SmtpReplies.TextLineTooLong);
        if (_scanner.ReceivedHeaders >= _server.Options.MaxReceivedHeaders)
            return FailMessage(SmtpReplies.TooManyHops);
        return Step.Commit;
    }

    private Step FailMessage(ReadOnlySpan<byte> reply)
    {
        Step step = Reject(reply);
        AbortMessage();
        ResetTransaction();
        return step;
    }

    private Step BadMessageText(TextScanStatus status)
    {
        ReadOnlySpan<byte> reply = status switch
        {
            TextScanStatus.BareCr => SmtpReplies.DataBareCr,
            TextScanStatus.BareLf => SmtpReplies.DataBareLf,
            _ => SmtpReplies.DataNul,
        };
        LogReject(reply, default, default);
        AbortMessage();
        ResetTransaction();
        _mode = ReceiveMode.Command;
        _output.Write(reply);
        return Step.Close;
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AppendChunkAsync()
    {
        await _writer.FlushChunkAsync().ConfigureAwait(false);
        LogStoreFailure();
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask MoveMessageForwardAsync()
    {
        await _writer.MoveForwardAsync().ConfigureAwait(false);
        LogStoreFailure();
    }

    private void LogStoreFailure()
    {
        if (_writer.StoreFailed)
            _server.Logger.LogError("{Id}: queue write failed while receiving: {Reason}", _writer.Id, _server.Queue.Log.Failure?.Message);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    /// <summary>The message is durable: 250, and its log lines.</summary>
    private void Committed(QueueId id, long size, QueuedMessage message)
    {
        _messages++;
        _server.Statistics.MessageAccepted(size);
        SmtpReplyWriter.WriteQueuedAs(_output, id);
        if (Authenticated)
            _server.Logger.Line(LogLevel.Information, $"{id}: client=[{_clientAddress}], helo=<{_helo.AsSpan(0, _heloLength)}>, sasl_method={_authMechanism}, sasl_username={_authenticatedUser}");
        if (_submitter is { } uid)
            _server.Logger.Line(LogLevel.Information, $"{id}: uid={uid} (sendmail)");
        else
            _server.Logger.Line(LogLevel.Information, $"{id}: client=[{_clientAddress}], helo=<{_helo.AsSpan(0, _heloLength)}>");
        _server.Logger.Line(LogLevel.Information,
            $"{id}: from=<{_sender.AsSpan(0, _senderLength)}>, size={size}, nrcpt={message.Recipients.Length} ({(_bdatUsed ? "BDAT" : "DATA")})");
        ResetTransaction();
    }

    /// <summary>Writes the envelope after the body's last part.</summary>
    private void Seal() => _writer.Seal(new SubmissionEnvelope
    {
        Sender = _sender.AsSpan(0, _senderLength),
        Recipients = _recipients,
        Origin = _submitter is null ? MessageOrigin.Smtp : MessageOrigin.Sendmail,
        ClientAddress = _clientAddressBytes,
        ClientHelo = _helo.AsSpan(0, _heloLength),
        AuthenticatedName = _authenticatedUserBytes,
        EightBitMime = _eightBitMime,
        SmtpUtf8 = _smtpUtf8,
        Return = _return,
        EnvelopeId = _buffers.EnvelopeId.AsSpan(0, _envelopeIdLength),
    });

    /// <summary>Drops a message being received: its chunks become garbage for truncation; the buffer goes back
    /// to the pool (an idle connection holds no message buffer).</summary>
    private void AbortMessage() => _writer.Abort();

    private void ResetTransaction()
    {
        AbortMessage();
        _mailGiven = false;
        _senderLength = 0;
        _eightBitMime = false;
        _smtpUtf8 = false;
        _return = DsnReturn.Unspecified;
        _envelopeIdLength = 0;
        _rcptAttempted = false;
        _recipients.Clear();
        _bdatUsed = false;
    }

    private Step Reply(ReadOnlySpan<byte> reply)
    {
        _output.Write(reply);
        return Step.Continue;
    }

    /// <param name="sender">For a refused MAIL: the sender the client gave, which the log names instead of the
    /// transaction's (there is none yet).</param>
    private Step Reject(ReadOnlySpan<byte> reply, ReadOnlySpan<byte> recipient = default, ReadOnlySpan<byte> sender = default)
    {
        LogReject(reply, recipient, sender);
        _output.Write(reply);
        if (++_errors >= _server.Options.MaxErrors)
        {
            _server.Logger.Line(LogLevel.Information, $"too many errors from [{_clientAddress}]");
            _output.Write(ReplyWithHost("421 4.7.0 "u8, SmtpReplies.TooManyErrorsText));
            return Step.Close;
        }
        return Step.Continue;
    }

    private Step RejectAddress(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> address, ReadOnlySpan<byte> text)
    {
        int length = prefix.Length + address.Length + 1 + text.Length;
        byte[]? rented = null;
        Span<byte> reply = length <= ReplyBufferHint * 2 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
        prefix.CopyTo(reply);
        address.CopyTo(reply[prefix.Length..]);
        reply[prefix.Length + address.Length] = (byte)'>';
        text.CopyTo(reply[(prefix.Length + address.Length + 1)..]);
        Step step = Reject(reply[..length], address);
        if (rented is not null)
            ArrayPool<byte>.Shared.Return(rented);
        return step;
    }

    /// <summary>The reply to a MAIL or RCPT argument the parser refused; the side supplies its own wording.</summary>
    private Step RejectArgument(ArgumentError error, ReadOnlySpan<byte> syntax, ReadOnlySpan<byte> badAddress, ReadOnlySpan<byte> tooLong, ReadOnlySpan<byte> keyword,
        ReadOnlySpan<byte> sender = default) => error switch
    {
        ArgumentError.Syntax => Reject(syntax, sender: sender),
        ArgumentError.BadAddress => Reject(badAddress, sender: sender),
        ArgumentError.PathTooLong => Reject(tooLong, sender: sender),
        ArgumentError.UnsupportedParameter => RejectUnsupported(keyword, sender),
        _ => Reject(SmtpReplies.BadParameterValue, sender: sender),
    };

    /// <summary>The sender as a refused MAIL gave it, for the log: what stands between <c>FROM:&lt;</c> and the
    /// closing <c>&gt;</c> (or the first space), at most 256 octets.</summary>
    private static ReadOnlySpan<byte> GivenSender(ReadOnlySpan<byte> argument)
    {
        int colon = argument.IndexOf((byte)':');
        ReadOnlySpan<byte> path = (colon >= 0 ? argument[(colon + 1)..] : argument).TrimStart(" "u8);
        if (!path.IsEmpty && path[0] == (byte)'<')
        {
            path = path[1..];
            int close = path.IndexOf((byte)'>');
            if (close >= 0)
                path = path[..close];
        }
        else if (path.IndexOf((byte)' ') is >= 0 and int space)
        {
            path = path[..space];
        }
        return path[..Math.Min(path.Length, 256)];
    }

    private Step RejectUnsupported(ReadOnlySpan<byte> keyword, ReadOnlySpan<byte> sender = default)
    {
        Span<byte> reply = stackalloc byte[MaxRcptLine + 64];
        SmtpReplies.UnsupportedOptionPrefix.CopyTo(reply);
        int n = SmtpReplies.UnsupportedOptionPrefix.Length;
        keyword.CopyTo(reply[n..]);
        n += keyword.Length;
        SmtpReplies.Crlf.CopyTo(reply[n..]);
        return Reject(reply[..(n + 2)], sender: sender);
    }

    private Step ProtocolViolation(SmtpVerb verb)
    {
        _server.Logger.LogInformation("reject: improper command pipelining after {Verb} from [{Client}]: 554 5.5.0 Error: SMTP protocol synchronization", verb.ToString().ToUpperInvariant(), _clientAddress);
        _server.Metrics.Rejected(StageNames[(int)verb], SmtpReplies.ProtocolSynchronization);
        _output.Write(SmtpReplies.ProtocolSynchronization);
        return Step.Close;
    }

    /// <summary>Every refusal is counted and logged with the reply that was sent, in Postfix's layout:
    /// <c>NOQUEUE: reject: RCPT from [1.2.3.4]: 550 5.1.1 ...; from=&lt;a&gt; to=&lt;b&gt; proto=ESMTP helo=&lt;c&gt;</c>.</summary>
    private void LogReject(ReadOnlySpan<byte> reply, ReadOnlySpan<byte> recipient, ReadOnlySpan<byte> sender)
    {
        bool inMessage = _writer.IsOpen;
        string stage = inMessage ? "END-OF-MESSAGE" : StageNames[(int)_stage];
        _server.Metrics.Rejected(stage, reply);
        if (!_server.Logger.IsEnabled(LogLevel.Information))
            return;
        if (recipient.IsEmpty && _recipients.Count > 0)
            recipient = _recipients[0];
        scoped ReadOnlySpan<byte> queue = inMessage ? default : "NOQUEUE"u8;
        Span<byte> id = stackalloc byte[QueueId.TextLength];
        if (inMessage)
        {
            _writer.Id.TryFormat(id, out int written);
            queue = id[..written];
        }
        _server.Logger.Line(LogLevel.Information,
            $"{queue}: reject: {stage} from [{_clientAddress}]: {reply.TrimEnd("\r\n"u8)}; from=<{(_mailGiven || sender.IsEmpty ? _sender.AsSpan(0, _senderLength) : sender)}> to=<{recipient}> proto={(_extended ? "ESMTP" : "SMTP")} helo=<{_helo.AsSpan(0, _heloLength)}>");
    }

    private static readonly string[] StageNames =
        ["UNKNOWN", "HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "VRFY", "EXPN", "HELP", "STARTTLS", "AUTH"];

    private byte[] ReplyWithHost(ReadOnlySpan<byte> code, ReadOnlySpan<byte> text)
    {
        byte[] reply = new byte[code.Length + _server.Hostname.Length + text.Length];
        code.CopyTo(reply);
        _server.Hostname.CopyTo(reply.AsSpan(code.Length));
        text.CopyTo(reply.AsSpan(code.Length + _server.Hostname.Length));
        return reply;
    }

    private async ValueTask TryWriteAndFlushAsync(byte[] reply)
    {
        try
        {
            _output.Write(reply);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5), _server.Time);
            await _output.FlushAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or ConnectionResetException)
        {
            // The client is gone; nothing more to say.
        }
    }
}
