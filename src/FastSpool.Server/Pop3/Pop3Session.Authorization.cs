// RFC 1939 §7 (USER, PASS), RFC 5034 §4 (AUTH PLAIN with an initial response or after "+ ", "*" cancels),
// RFC 4616 (PLAIN), RFC 2449 §8 and RFC 3206 (IN-USE, SYS/TEMP, SYS/PERM, AUTH response codes).
using System.Buffers;
using System.Text;
using FastSpool.Delivery.Maildrop;
using FastSpool.Delivery.Mbox;
using FastSpool.Logging;
using FastSpool.Protocols.Pop3;
using FastSpool.Protocols.Sasl;
using FastSpool.Sasl;
using FastSpool.Users;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Pop3;

internal sealed partial class Pop3Session
{
    private const int PassPrefix = 5; // "PASS "

    private bool User(ReadOnlySpan<byte> argument)
    {
        if (!LoginAllowed)
            return Error(Pop3Replies.PlaintextRefused);
        if (argument.IsEmpty || argument.Length > UserName.MaxLength * 4)
            return Error(Pop3Replies.UserSyntax);
        // Whether the user exists is told by PASS only, after the same delay as a wrong password.
        _user = Encoding.UTF8.GetString(argument);
        _output.Write(Pop3Replies.Ok);
        return false;
    }

    private ValueTask<bool> PassAsync(int lineLength)
    {
        if (!LoginAllowed)
            return Result(Error(Pop3Replies.PlaintextRefused));
        if (_user is null)
            return Result(Error(Pop3Replies.UserFirst));
        if (lineLength <= PassPrefix)
            return Result(Error(Pop3Replies.PassSyntax));
        // The password is the rest of the line, spaces included (RFC 1939 §7).
        bool verified = Verify(_user, _line.AsSpan(PassPrefix, lineLength - PassPrefix), out string? mailbox);
        _line.AsSpan(0, lineLength).Clear();
        return LoginAsync(verified, mailbox, "USER");
    }

    private ValueTask<bool> AuthAsync(int lineLength)
    {
        ReadOnlySpan<byte> line = _line.AsSpan(0, lineLength);
        Pop3CommandParser.Parse(line, out ReadOnlySpan<byte> argument);
        if (argument.IsEmpty)
        {
            _output.Write(Pop3Replies.MechanismList);
            return False;
        }
        Pop3CommandParser.SplitAuth(argument, out ReadOnlySpan<byte> mechanism, out ReadOnlySpan<byte> initial, out bool hasInitial);
        if (!Pop3CommandParser.IsPlain(mechanism))
            return Result(Error(Pop3Replies.UnsupportedMechanism));
        if (!LoginAllowed)
            return Result(Error(Pop3Replies.PlaintextRefused));
        if (!hasInitial)
        {
            _awaitingSaslResponse = true;
            _output.Write(Pop3Replies.Continue);
            return False;
        }
        return PlainAsync(initial);
    }

    private ValueTask<bool> SaslResponseAsync(ReadOnlySpan<byte> line)
    {
        _awaitingSaslResponse = false;
        if (line.SequenceEqual("*"u8))
        {
            _server.Logger.Line(LogLevel.Information, $"authentication cancelled: method=PLAIN, [{_client}]");
            return Result(Error(Pop3Replies.AuthCancelled));
        }
        return PlainAsync(line);
    }

    private ValueTask<bool> PlainAsync(ReadOnlySpan<byte> response)
    {
        Span<byte> decoded = stackalloc byte[SaslPlain.MaxDecodedLength];
        SaslPlainStatus status = SaslPlain.TryDecode(response, decoded, out SaslPlainCredentials credentials);
        if (status == SaslPlainStatus.NotBase64)
            return Result(Error(Pop3Replies.NotBase64));
        if (status != SaslPlainStatus.Decoded)
        {
            decoded.Clear();
            return Result(Error(Pop3Replies.MalformedPlain));
        }
        _user = Encoding.UTF8.GetString(credentials.AuthenticationId);
        // Acting as someone else (an authorization identity other than one's own) is not offered.
        string? mailbox = null;
        bool verified = (credentials.AuthorizationId.IsEmpty || credentials.AuthorizationId.SequenceEqual(credentials.AuthenticationId))
            && Verify(_user, credentials.Password, out mailbox);
        decoded.Clear();
        _line.AsSpan().Clear();
        return LoginAsync(verified, mailbox, "PLAIN");
    }

    /// <summary>Checks a password against the users file (only through UserStore and PasswordHasher), both the name and
    /// the password prepared with SASLprep (RFC 4013) first; a password stored before passwords were prepared is
    /// also tried as sent.</summary>
    private bool Verify(string user, ReadOnlySpan<byte> password, out string? mailbox)
    {
        mailbox = null;
        Span<char> prepared = stackalloc char[PreparedLength];
        SaslPrepResult result = SaslPrep.Prepare(user, prepared);
        if (!result.Succeeded)
        {
            LogSaslPrepRefused("user name", result);
            return false;
        }
        string? hash = null;
        bool known = UserName.TryNormalize(prepared[..result.Length], out string? name) && _server.Users.TryGetPasswordHash(name, out hash);
        Span<char> chars = stackalloc char[SaslPlain.MaxDecodedLength];
        int count;
        try
        {
            count = Encoding.UTF8.GetChars(password, chars);
        }
        catch (ArgumentException)
        {
            return false; // longer than any password a user can have set
        }
        bool ok = false;
        try
        {
            result = SaslPrep.Prepare(chars[..count], prepared);
            if (!known)
            {
                // As long as a wrong password: the time of the reply does not tell whether the user exists.
                ok = PasswordHasher.VerifyNobody(chars[..count]);
            }
            else if (result.Succeeded)
            {
                ok = PasswordHasher.VerifyEither(prepared[..result.Length], chars[..count], hash!);
            }
            else
            {
                // Refused as a new password would be, but one stored before passwords were prepared is checked as sent.
                LogSaslPrepRefused("password", result);
                ok = PasswordHasher.Verify(chars[..count], hash!);
            }
        }
        finally
        {
            chars.Clear();
            prepared.Clear();
        }
        mailbox = ok ? name : null;
        return ok;
    }

    /// <summary>Room for a user name or password after SASLprep (NFKC can make a string longer).</summary>
    private const int PreparedLength = 1024;

    private void LogSaslPrepRefused(string what, SaslPrepResult result) =>
        _server.Logger.Line(LogLevel.Warning, $"[{_client}]: the {what} was refused by SASLprep (RFC 4013): {result.ToString()}");

    private async ValueTask<bool> LoginAsync(bool verified, string? mailbox, string method)
    {
        if (_server.LoginFailures.IsLockedOut(_clientIp))
        {
            _server.Logger.Line(LogLevel.Warning, $"login refused: user=<{_user}>, method={method}, [{_client}]: too many failed logins");
            _server.Metrics.LoginLockedOut();
            _output.Write(Pop3Replies.LockedOut);
            return true;
        }
        if (!verified)
        {
            LoginFailure failure = _server.LoginFailures.Record(_clientIp);
            _server.Logger.Line(LogLevel.Warning, $"authentication failed: user=<{_user}>, method={method}, [{_client}], failures={failure.Count}");
            _server.Metrics.LoginFailed();
            if (failure.Delay > TimeSpan.Zero)
                await Task.Delay(failure.Delay, _server.Time, Token).ConfigureAwait(false);
            _user = null;
            if (failure.LockedOut)
            {
                _output.Write(Pop3Replies.LockedOut);
                return true;
            }
            return Error(Pop3Replies.AuthFailed);
        }
        _user = mailbox!;
        // Appends cut short by a crash are settled first: the update would move the regions they name.
        string? problem = null;
        if (_server.Local is { } local && !local.TrySettle(mailbox!, out problem))
        {
            _server.Logger.Line(LogLevel.Warning, $"maildrop unavailable: user=<{_user}>, [{_client}]: {problem}");
            _server.Metrics.MaildropUnavailable();
            _output.Write(Pop3Replies.MaildropUnavailable);
            return true;
        }
        (MaildropOpenResult opened, Maildrop? maildrop, string? error) = await Task.Run(() =>
        {
            MaildropOpenResult r = Maildrop.TryOpen(_server.MailboxPath(mailbox!), _server.OwnerOf(mailbox!), _server.MailboxMode,
                _server.IndexPath(mailbox!), _server.LockTimeout, _server.Holders, _server.Time, out Maildrop? m, out string? e);
            return (r, m, e);
        }, Token).ConfigureAwait(false);
        switch (opened)
        {
            case MaildropOpenResult.InUse:
                _server.Logger.Line(LogLevel.Information, $"maildrop in use: user=<{_user}>, [{_client}]: {error}");
                _server.Metrics.MaildropInUse();
                _output.Write(Pop3Replies.InUse);
                return true;
            case MaildropOpenResult.Failed:
                _server.Logger.Line(LogLevel.Error, $"maildrop cannot be opened: user=<{_user}>, [{_client}]: {error}");
                _server.Metrics.MaildropUnavailable();
                _output.Write(error is not null && error.Contains("not an mbox", StringComparison.Ordinal) ? Pop3Replies.MaildropBroken : Pop3Replies.MaildropUnavailable);
                return true;
        }
        _maildrop = maildrop!;
        _deleted = new bool[_maildrop.Count];
        _state = Pop3State.Transaction;
        _server.Metrics.LoggedIn();
        _server.Logger.Line(LogLevel.Information,
            $"login: user=<{_user}>, method={method}, [{_client}], messages={_maildrop.Count}, octets={_maildrop.TotalSize}");
        WriteNumberLine(Pop3Replies.LoggedInPrefix, _maildrop.Count, Pop3Replies.MessagesSuffix, _maildrop.TotalSize, Pop3Replies.OctetsSuffix);
        return false;
    }
}
