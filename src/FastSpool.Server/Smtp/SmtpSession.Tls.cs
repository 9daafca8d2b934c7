// RFC 3207 (STARTTLS) §4 and §4.2 (state reset), RFC 8314 §3.3 (implicit TLS for submission).
using System.Buffers;
using System.Security.Authentication;
using FastSpool.Logging;
using FastSpool.Server.Logging;
using FastSpool.Server.Tls;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Smtp;

internal sealed partial class SmtpSession
{
    private TlsConnection? _tls;

    /// <summary>TLS is on: after STARTTLS, or from the start on an implicit-TLS listener.</summary>
    private bool Secure => _tls is not null;

    /// <summary>STARTTLS is offered (in EHLO) and accepted: a certificate, and no TLS yet. Never on the sendmail
    /// socket: a local user's message does not cross a network.</summary>
    private bool StartTlsOffered => _server.Certificate is not null && _tls is null && _submitter is null;

    private Step StartTls(ReadOnlySpan<byte> argument)
    {
        if (_server.Certificate is null || _submitter is not null)
            return Reject(SmtpReplies.NotImplemented);
        if (_tls is not null)
            return Reject(SmtpReplies.TlsAlreadyActive);
        if (!argument.IsEmpty)
            return Reject(SmtpReplies.StartTlsSyntax);
        if (_mailGiven)
            return Reject(SmtpReplies.MailInProgress);
        _output.Write(SmtpReplies.ReadyToStartTls);
        return Step.StartTls;
    }

    /// <summary>The TLS handshake, then the session on the TLS pipes with everything it knew forgotten (RFC 3207
    /// §4.2): HELO, the transaction, AUTH. False when the handshake failed (logged): the connection is closed.</summary>
    private async ValueTask<bool> UpgradeAsync()
    {
        ServerCertificate certificate = _server.Certificate!;
        ArmTimer(_server.Options.Timeout);
        try
        {
            _tls = await TlsConnection.AcceptAsync(_connection.Transport, certificate, _timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or InvalidOperationException
            || (e is OperationCanceledException && _timeout.IsCancellationRequested && !_server.Stopping.IsCancellationRequested))
        {
            string reason = e is OperationCanceledException ? "timeout" : e.InnerException?.Message ?? e.Message;
            _server.Logger.Line(LogLevel.Information, $"TLS handshake failed from [{_clientAddress}]: {reason}");
            _server.Metrics.Rejected("STARTTLS", "454 4.7.0 TLS handshake failed\r\n"u8);
            return false;
        }
        finally
        {
            DisarmTimer();
        }
        _input = _tls.Input;
        _output = _tls.Output;
        _server.Logger.Line(LogLevel.Information, $"Anonymous TLS connection established from [{_clientAddress}]: {_tls.Description}");
        ResetTransaction();
        _lineReader.Reset();
        _greeted = false;
        _extended = false;
        _heloLength = 0;
        ForgetAuthentication();
        return true;
    }

    /// <summary>Logs what a client sent after STARTTLS before the handshake: it is dropped unread, never executed
    /// (CVE-2011-0411).</summary>
    private void LogDiscardedAfterStartTls(long octets)
    {
        if (octets > 0)
            _server.Logger.Line(LogLevel.Warning, $"[{_clientAddress}]: {octets} octets pipelined after STARTTLS discarded");
    }

    /// <summary>Ends TLS with the session: a close_notify after what is left to send (within a second), then the
    /// connection.</summary>
    private async ValueTask CloseTlsAsync()
    {
        if (_tls is not null)
            await _tls.CloseAsync(_server.Time, CloseNotifyWait).ConfigureAwait(false);
    }

    private static readonly TimeSpan CloseNotifyWait = TimeSpan.FromSeconds(1);
}
