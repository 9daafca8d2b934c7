// RFC 4954 (SMTP AUTH) §4 (the AUTH command, 334 continuations, "*" to cancel), §5 (MAIL AUTH=), §6 (status codes);
// RFC 4616 (PLAIN); the LOGIN mechanism (draft-murchison-sasl-login); RFC 5802 and RFC 7677 (SCRAM-SHA-256, and
// SCRAM-SHA-256-PLUS with the tls-server-end-point binding of RFC 5929).
using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using FastSpool.Logging;
using FastSpool.Protocols.Sasl;
using FastSpool.Sasl;
using FastSpool.Server.Logging;
using FastSpool.Users;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Smtp;

internal sealed partial class SmtpSession
{
    /// <summary>The longest AUTH command or response line with its CRLF: a PLAIN response of three 255-octet fields
    /// needs 1036 (RFC 4954 §4 allows up to 12288; SCRAM needs far less than this).</summary>
    private const int MaxAuthLine = 2048;

    // A SCRAM exchange for a user who has no SCRAM keys runs to its end with a salt made from this, and fails:
    // the exchange does not tell which names exist.
    private static readonly byte[] UnknownUserSaltKey = RandomNumberGenerator.GetBytes(32);

    private enum AuthStep : byte { None, Plain, LoginUser, LoginPassword, ScramFirst, ScramFinal, ScramDone }

    private AuthStep _authStep;
    private string? _authenticatedUser;
    private byte[] _authenticatedUserBytes = [];
    private string _authMechanism = "";
    private string? _loginUser;
    private string _failedUser = "";
    private ScramSha256Exchange? _scram;
    private string _scramUser = "";
    private byte[] _scramStoredKey = [];
    private byte[] _scramServerKey = [];
    private bool _scramKnown;

    private bool Authenticated => _authenticatedUser is not null;

    /// <summary>AUTH is offered and accepted: over TLS, on a loopback connection, or where
    /// <c>Smtp:AllowPlaintextAuth</c> says so.</summary>
    private bool AuthOffered => _server.Credentials is not null
        && (Secure || _server.Options.AllowPlaintextAuth || (_localIsLoopback && _server.PlaintextAuthOnLoopback));

    /// <summary>SCRAM-SHA-256-PLUS is offered and accepted: over TLS, with a certificate whose signature algorithm
    /// defines the tls-server-end-point binding (RFC 5929 §4.1).</summary>
    private bool PlusOffered => _tls?.EndPointBinding is not null;

    private void ForgetAuthentication()
    {
        _authenticatedUser = null;
        _authenticatedUserBytes = [];
        _authMechanism = "";
        EndExchange();
    }

    private void EndExchange()
    {
        _authStep = AuthStep.None;
        _loginUser = null;
        _scram = null;
        _scramStoredKey = _scramServerKey = [];
        _scramKnown = false;
    }

    private Step Auth(ReadOnlySpan<byte> argument)
    {
        if (_server.Credentials is null)
            return Reject(SmtpReplies.NotImplemented);
        if (!_extended)
            return Reject(SmtpReplies.SendHeloFirst);
        if (!AuthOffered)
            return Reject(_server.Certificate is not null && !Secure ? SmtpReplies.EncryptionRequired : SmtpReplies.AuthNotEnabled);
        if (Authenticated)
            return Reject(SmtpReplies.AlreadyAuthenticated);
        if (_mailGiven)
            return Reject(SmtpReplies.MailInProgress);
        if (_server.LoginFailures.IsLockedOut(_clientIp))
            return TooManyAuthFailures();
        int space = argument.IndexOf((byte)' ');
        ReadOnlySpan<byte> mechanism = space < 0 ? argument : argument[..space];
        ReadOnlySpan<byte> initial = space < 0 ? default : argument[(space + 1)..];
        bool hasInitial = space >= 0;
        if (mechanism.IsEmpty || (hasInitial && initial.IsEmpty))
            return Reject(SmtpReplies.AuthSyntax);
        if (Ascii.EqualsIgnoreCase(mechanism, "PLAIN"u8))
        {
            _authMechanism = "PLAIN";
            if (!hasInitial)
            {
                _authStep = AuthStep.Plain;
                return Reply(SmtpReplies.ContinueEmpty);
            }
            return Plain(initial);
        }
        if (Ascii.EqualsIgnoreCase(mechanism, "LOGIN"u8))
        {
            _authMechanism = "LOGIN";
            _authStep = AuthStep.LoginUser;
            return hasInitial ? AuthResponse(initial) : Reply(SmtpReplies.LoginUsername);
        }
        bool plus = Ascii.EqualsIgnoreCase(mechanism, "SCRAM-SHA-256-PLUS"u8) && PlusOffered;
        if (plus || Ascii.EqualsIgnoreCase(mechanism, "SCRAM-SHA-256"u8))
        {
            _authMechanism = plus ? ScramSha256Exchange.PlusMechanism : ScramSha256Exchange.Mechanism;
            _authStep = AuthStep.ScramFirst;
            return hasInitial ? AuthResponse(initial) : Reply(SmtpReplies.ContinueEmpty);
        }
        return Reject(SmtpReplies.UnknownMechanism);
    }

    /// <summary>A line sent in answer to a 334 (RFC 4954 §4): base64, or <c>*</c> to cancel.</summary>
    private Step AuthResponse(ReadOnlySpan<byte> line)
    {
        if (line.SequenceEqual("*"u8))
        {
            EndExchange();
            return Reject(SmtpReplies.AuthAborted);
        }
        if (_authStep == AuthStep.Plain)
            return Plain(line);
        Span<byte> decoded = stackalloc byte[MaxAuthLine];
        if (!TryDecode(line, decoded, out int length))
        {
            EndExchange();
            return Reject(SmtpReplies.CannotDecode);
        }
        ReadOnlySpan<byte> response = decoded[..length];
        switch (_authStep)
        {
            case AuthStep.LoginUser:
                if (response.IsEmpty || response.Length > SaslPlain.MaxFieldLength || !Utf8.IsValid(response))
                    return Failed(response);
                _loginUser = Encoding.UTF8.GetString(response);
                _authStep = AuthStep.LoginPassword;
                return Reply(SmtpReplies.LoginPassword);
            case AuthStep.LoginPassword:
                return CheckPassword(Encoding.UTF8.GetBytes(_loginUser!), response);
            case AuthStep.ScramFirst:
                return ScramFirst(response);
            case AuthStep.ScramFinal:
                return ScramFinal(response);
            default: // ScramDone: the client's empty answer to the server's signature
                return Succeeded(_scramUser);
        }
    }

    private Step Plain(ReadOnlySpan<byte> base64)
    {
        if (base64.SequenceEqual("="u8))
            return Failed(default); // the empty response: no fields at all
        Span<byte> buffer = stackalloc byte[SaslPlain.MaxDecodedLength];
        switch (SaslPlain.TryDecode(base64, buffer, out SaslPlainCredentials credentials))
        {
            case SaslPlainStatus.NotBase64:
                EndExchange();
                return Reject(SmtpReplies.CannotDecode);
            case SaslPlainStatus.Malformed:
                return Failed(default);
        }
        // No one may act as another: an authorization identity must be the user's own name.
        if (!credentials.AuthorizationId.IsEmpty && !Ascii.EqualsIgnoreCase(credentials.AuthorizationId, credentials.AuthenticationId))
            return Failed(credentials.AuthenticationId);
        return CheckPassword(credentials.AuthenticationId, credentials.Password);
    }

    private Step CheckPassword(ReadOnlySpan<byte> user, ReadOnlySpan<byte> password)
    {
        Span<char> name = stackalloc char[SaslPlain.MaxFieldLength];
        Span<char> secret = stackalloc char[SaslPlain.MaxFieldLength];
        if (!Utf8.IsValid(user) || !Utf8.IsValid(password) || user.Length > name.Length || password.Length > secret.Length)
            return Failed(user);
        int nameLength = Encoding.UTF8.GetChars(user, name);
        int secretLength = Encoding.UTF8.GetChars(password, secret);
        // RFC 4013 (SASLprep) on both, as RFC 4616 §2 asks of a PLAIN server; NFKC can make a string longer.
        Span<char> preparedName = stackalloc char[PreparedLength];
        Span<char> prepared = stackalloc char[PreparedLength];
        SaslPrepResult nameResult = SaslPrep.Prepare(name[..nameLength], preparedName);
        SaslPrepResult secretResult = nameResult.Succeeded ? SaslPrep.Prepare(secret[..secretLength], prepared) : nameResult;
        string? normalized = null;
        bool ok = false;
        if (!nameResult.Succeeded)
        {
            LogSaslPrepRefused("user name", nameResult);
        }
        else if (!secretResult.Succeeded)
        {
            // Refused as a new password would be, but one stored before passwords were prepared is checked as sent.
            LogSaslPrepRefused("password", secretResult);
            ok = UserName.TryNormalize(preparedName[..nameResult.Length], out normalized)
                && _server.Credentials!.Verify(normalized, secret[..secretLength], secret[..secretLength]);
        }
        else
            ok = UserName.TryNormalize(preparedName[..nameResult.Length], out normalized)
                && _server.Credentials!.Verify(normalized, prepared[..secretResult.Length], secret[..secretLength]);
        secret.Clear();
        prepared.Clear();
        return ok ? Succeeded(normalized!) : Failed(user);
    }

    /// <summary>Room for a user name or password after SASLprep.</summary>
    private const int PreparedLength = 1024;

    private void LogSaslPrepRefused(string what, SaslPrepResult result) =>
        _server.Logger.Line(LogLevel.Warning, $"[{_clientAddress}]: SASL {_authMechanism}: the {what} was refused by SASLprep (RFC 4013): {result.ToString()}");

    private Step ScramFirst(ReadOnlySpan<byte> message)
    {
        // The binding goes to a non-PLUS exchange too: where -PLUS is offered, a client's 'y' is a downgrade.
        _scram = new ScramSha256Exchange(_authMechanism == ScramSha256Exchange.PlusMechanism, PlusOffered ? _tls!.EndPointBinding : null);
        ScramStatus status = _scram.ReadClientFirst(message);
        if (status != ScramStatus.Ok)
        {
            LogScramRefused(status);
            return Failed(default);
        }
        // RFC 5802 §5.1: the name is SASLprep'd (the client should have; the server does it again to find the user).
        if (SaslPrep.Prepare(_scram.UserName, out SaslPrepResult prepared) is not { } user)
        {
            LogSaslPrepRefused("user name", prepared);
            return Failed(default);
        }
        byte[] salt;
        int iterations;
        UserName.TryNormalize(user, out string? normalized);
        _scramUser = normalized ?? user;
        if (normalized is not null && _server.Credentials!.Users.TryGetPasswordHash(normalized, out string? stored)
            && ScramKeys.TryParse(stored, out ScramKeys? keys))
        {
            (salt, iterations, _scramStoredKey, _scramServerKey, _scramKnown) = (keys.Salt, keys.Iterations, keys.StoredKey, keys.ServerKey, true);
        }
        else
        {
            salt = HMACSHA256.HashData(UnknownUserSaltKey, Encoding.UTF8.GetBytes(user.ToLowerInvariant()))[..16];
            iterations = PasswordHasher.Iterations;
            _scramStoredKey = RandomNumberGenerator.GetBytes(ScramKeys.KeySize);
            _scramServerKey = RandomNumberGenerator.GetBytes(ScramKeys.KeySize);
            _scramKnown = false;
        }
        _authStep = AuthStep.ScramFinal;
        return Challenge(_scram.WriteServerFirst(salt, iterations));
    }

    private Step ScramFinal(ReadOnlySpan<byte> message)
    {
        ScramStatus status = _scram!.ReadClientFinal(message, _scramStoredKey, _scramServerKey, out byte[] serverFinal);
        if (status != ScramStatus.Ok || !_scramKnown)
        {
            LogScramRefused(status);
            if (!_scramKnown && _server.Credentials!.Users.TryGetPasswordHash(_scramUser, out _))
                _server.Logger.Line(LogLevel.Warning, $"SASL {_authMechanism}: user {_scramUser} has a password hash of the older form, which serves PLAIN and LOGIN only; set the password again (fastspool user passwd) for SCRAM");
            return Failed(Encoding.UTF8.GetBytes(_scramUser));
        }
        _authStep = AuthStep.ScramDone;
        return Challenge(serverFinal);
    }

    /// <summary>Names what was wrong with a SCRAM exchange beyond a wrong password: its channel binding above all.</summary>
    private void LogScramRefused(ScramStatus status)
    {
        string? why = status switch
        {
            ScramStatus.Malformed => "malformed message",
            ScramStatus.ChannelBindingNotSupported => "the client asked for channel binding without -PLUS",
            ScramStatus.UnsupportedChannelBindingType => "the client asked for a channel binding other than tls-server-end-point",
            ScramStatus.Downgraded => "the client can bind but was told the server cannot ('y' where SCRAM-SHA-256-PLUS is offered): a downgrade",
            ScramStatus.ChannelBindingMismatch => "the channel binding is not this connection's",
            _ => null,
        };
        if (why is not null)
            _server.Logger.Line(LogLevel.Warning, $"[{_clientAddress}]: SASL {_authMechanism}: {why}");
    }

    /// <summary><c>334 base64(data)</c>.</summary>
    private Step Challenge(ReadOnlySpan<byte> data)
    {
        Span<byte> reply = stackalloc byte[4 + Base64.GetMaxEncodedToUtf8Length(data.Length) + 2];
        "334 "u8.CopyTo(reply);
        Base64.EncodeToUtf8(data, reply[4..], out _, out int written);
        SmtpReplies.Crlf.CopyTo(reply[(4 + written)..]);
        return Reply(reply[..(4 + written + 2)]);
    }

    private Step Succeeded(string user)
    {
        EndExchange();
        _authenticatedUser = user;
        _authenticatedUserBytes = Encoding.UTF8.GetBytes(user);
        return Reply(SmtpReplies.AuthSucceeded);
    }

    /// <summary>A wrong password (or a malformed exchange): answered by <see cref="AuthFailedAsync"/> after the delay.</summary>
    private Step Failed(ReadOnlySpan<byte> user)
    {
        EndExchange();
        _failedUser = Utf8.IsValid(user) ? Encoding.UTF8.GetString(user[..Math.Min(user.Length, 64)]) : "";
        return Step.AuthFailed;
    }

    /// <summary>Counts the failure against the client's address, waits the delay it earned, then answers
    /// <c>535 5.7.8</c>, or <c>421</c> and true (close) when the client has reached <c>Smtp:MaxAuthFailures</c>.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AuthFailedAsync()
    {
        LoginFailure failure = _server.LoginFailures.Record(_clientIp);
        _server.Logger.Line(LogLevel.Warning,
            $"[{_clientAddress}]: SASL {_authMechanism} authentication failed: sasl_username={_failedUser}, failures={failure.Count}");
        _server.Metrics.Rejected("AUTH", SmtpReplies.AuthFailed);
        if (failure.Delay > TimeSpan.Zero)
            await Task.Delay(failure.Delay, _server.Time, _timeout.Token).ConfigureAwait(false);
        if (failure.LockedOut)
            return TooManyAuthFailures() == Step.Close;
        _output.Write(SmtpReplies.AuthFailed);
        if (++_errors >= _server.Options.MaxErrors)
        {
            _server.Logger.Line(LogLevel.Information, $"too many errors from [{_clientAddress}]");
            _output.Write(ReplyWithHost("421 4.7.0 "u8, SmtpReplies.TooManyErrorsText));
            return true;
        }
        return false;
    }

    private Step TooManyAuthFailures()
    {
        _server.Logger.Line(LogLevel.Warning, $"too many authentication failures from [{_clientAddress}]");
        _output.Write(ReplyWithHost("421 4.7.0 "u8, SmtpReplies.TooManyAuthFailuresText));
        return Step.Close;
    }

    /// <summary>Base64 of a SASL response; <c>=</c> is the empty response (RFC 4954 §4).</summary>
    private static bool TryDecode(ReadOnlySpan<byte> line, Span<byte> decoded, out int length)
    {
        length = 0;
        if (line.SequenceEqual("="u8))
            return true;
        return line.Length % 4 == 0
            && Base64.DecodeFromUtf8(line, decoded, out int consumed, out length) == System.Buffers.OperationStatus.Done
            && consumed == line.Length;
    }

    /// <summary>On a submission listener with <c>Smtp:SenderLoginMatch</c>: the sender must be the user's own
    /// address (its name at a local domain), an alias at a local domain whose mail reaches the user's mailbox (as
    /// Postfix's smtpd_sender_login_maps does when it is the alias map: <c>info: alice</c> lets alice send as
    /// info@), or the null sender.</summary>
    private bool SenderOwned(ReadOnlySpan<byte> path)
    {
        if (path.IsEmpty)
            return true;
        int at = path.LastIndexOf((byte)'@');
        if (at <= 0 || !_server.Domains.Contains(path[(at + 1)..]))
            return false;
        if (Ascii.EqualsIgnoreCase(path[..at], _authenticatedUserBytes))
            return true;
        RecipientResolution resolution = _server.Recipients.Resolve(Encoding.UTF8.GetString(path[..at]));
        foreach (string mailbox in resolution.Mailboxes)
        {
            if (mailbox.Equals(_authenticatedUser, StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }

    /// <summary><c>553 5.7.1 &lt;sender&gt;: Sender address rejected: not owned by user alice</c>.</summary>
    private Step RejectNotOwned(ReadOnlySpan<byte> path)
    {
        byte[] reply = [.. "553 5.7.1 <"u8, .. path, (byte)'>', .. SmtpReplies.NotOwnedText, .. _authenticatedUserBytes, .. SmtpReplies.Crlf];
        return Reject(reply, sender: path);
    }
}
