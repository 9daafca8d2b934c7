// RFC 5321 §4.1.1 (commands), §4.1.1.2 (MAIL), §4.1.1.3 (RCPT), §4.5.1 (postmaster); RFC 3030 §2 (BDAT);
// RFC 6531 §3.3 (UTF-8 addresses). Paths are in SmtpCommandParser.Paths.cs, parameters in .Parameters.cs and the
// DSN parameters' values (RFC 3461) in .Dsn.cs.
using System.Text;
using System.Text.Unicode;

namespace FastSpool.Protocols.Smtp;

/// <summary>Pure parsers for SMTP command lines and their arguments. No I/O, no allocation.</summary>
public static partial class SmtpCommandParser
{
    private const byte SP = (byte)' ';
    private const int MaxLocalPartLength = 64;
    private const int MaxDomainLength = 255;
    private const int MaxPathLength = 256;

    /// <summary>Splits a command line (without CRLF) into its verb and argument. The verb runs to the first SP;
    /// the argument is the rest with leading SPs and trailing SP/HTAB removed.</summary>
    public static SmtpVerb ParseVerb(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> argument)
    {
        int sp = line.IndexOf(SP);
        ReadOnlySpan<byte> verb;
        if (sp < 0)
        {
            verb = line;
            argument = default;
        }
        else
        {
            verb = line[..sp];
            argument = line[(sp + 1)..].TrimStart(SP).TrimEnd(" \t"u8);
        }

        return MatchVerb(verb);
    }

    private static SmtpVerb MatchVerb(ReadOnlySpan<byte> verb)
    {
        if (verb.Length is not (4 or 8))
            return SmtpVerb.Unknown;

        // One candidate comparison (two at most) after dispatching on the first letter.
        return (verb[0] | 0x20) switch
        {
            'h' => Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Helo) ? SmtpVerb.Helo
                : Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Help) ? SmtpVerb.Help : SmtpVerb.Unknown,
            'e' => Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Ehlo) ? SmtpVerb.Ehlo
                : Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Expn) ? SmtpVerb.Expn : SmtpVerb.Unknown,
            'm' => Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Mail) ? SmtpVerb.Mail : SmtpVerb.Unknown,
            'r' => Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Rcpt) ? SmtpVerb.Rcpt
                : Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Rset) ? SmtpVerb.Rset : SmtpVerb.Unknown,
            'd' => Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Data) ? SmtpVerb.Data : SmtpVerb.Unknown,
            'b' => Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Bdat) ? SmtpVerb.Bdat : SmtpVerb.Unknown,
            'n' => Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Noop) ? SmtpVerb.Noop : SmtpVerb.Unknown,
            'q' => Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Quit) ? SmtpVerb.Quit : SmtpVerb.Unknown,
            'v' => Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Vrfy) ? SmtpVerb.Vrfy : SmtpVerb.Unknown,
            's' => Ascii.EqualsIgnoreCase(verb, SmtpLiterals.StartTls) ? SmtpVerb.StartTls : SmtpVerb.Unknown,
            'a' => Ascii.EqualsIgnoreCase(verb, SmtpLiterals.Auth) ? SmtpVerb.Auth : SmtpVerb.Unknown,
            _ => SmtpVerb.Unknown,
        };
    }

    /// <summary>HELO/EHLO argument: a domain or address literal, checked leniently (as Postfix does by default):
    /// non-empty, no SP, CTL, DEL or NUL; octets of 0x80 and above only as valid UTF-8.</summary>
    public static bool IsValidHeloArgument(ReadOnlySpan<byte> argument)
    {
        if (argument.IsEmpty)
            return false;
        if (argument.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) < 0)
            return true;
        foreach (byte b in argument)
        {
            if (b < 0x21 || b == 0x7F)
                return false;
        }

        return Utf8.IsValid(argument);
    }

    /// <summary>BDAT argument <c>chunk-size [SP "LAST"]</c>.</summary>
    public static BdatParseResult TryParseBdat(ReadOnlySpan<byte> argument, out long chunkSize, out bool last)
    {
        chunkSize = 0;
        last = false;
        int digits = argument.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        if (digits < 0)
            digits = argument.Length;
        if (digits == 0)
            return BdatParseResult.Syntax;

        ReadOnlySpan<byte> rest = argument[digits..];
        if (!rest.IsEmpty)
        {
            if (rest[0] != SP || !Ascii.EqualsIgnoreCase(rest.TrimStart(SP), SmtpLiterals.Last))
                return BdatParseResult.Syntax;
            last = true;
        }

        return TryParseDecimal(argument[..digits], out chunkSize) ? BdatParseResult.Ok : BdatParseResult.SizeOverflow;
    }

    /// <summary>MAIL argument <c>FROM:&lt;reverse-path&gt; [SP mail-parameters]</c>. The parameters are SIZE, BODY,
    /// SMTPUTF8, RET and ENVID; any other is <see cref="ArgumentError.UnsupportedParameter"/>.</summary>
    public static ArgumentError TryParseMailFrom(ReadOnlySpan<byte> argument, out MailFromCommand command)
    {
        command = new MailFromCommand { DomainStart = -1, Size = -1 };
        if (!StartsWithIgnoreCase(argument, SmtpLiterals.From))
            return ArgumentError.Syntax;

        int pos = SmtpLiterals.From.Length;
        ArgumentError error = ParsePath(argument, ref pos, out ParsedPath path);
        if (error != ArgumentError.None)
            return error;
        if (!path.IsNull && path.DomainStart < 0)
            return ArgumentError.BadAddress;

        var parameters = new MailParameters { Size = -1 };
        error = ParseParameters(argument, pos, ref parameters, out int errorStart, out int errorLength);
        if (error != ArgumentError.None)
        {
            command = command with { ErrorStart = errorStart, ErrorLength = errorLength };
            return error;
        }

        if (path.HasNonAscii && !IsAllowedUtf8(argument.Slice(path.Start, path.Length), parameters.SmtpUtf8))
            return ArgumentError.BadAddress;

        command = new MailFromCommand
        {
            PathStart = path.Start,
            PathLength = path.Length,
            DomainStart = path.DomainStart,
            IsNullPath = path.IsNull,
            HasNonAscii = path.HasNonAscii,
            Size = parameters.Size,
            Body = parameters.Body,
            SmtpUtf8 = parameters.SmtpUtf8,
            Ret = parameters.Ret,
            EnvIdStart = parameters.EnvIdStart,
            EnvIdLength = parameters.EnvIdLength,
            Auth = parameters.Auth,
        };
        return ArgumentError.None;
    }

    /// <summary>RCPT argument <c>TO:&lt;forward-path&gt; [SP rcpt-parameters]</c>. <paramref name="allowUtf8"/> is
    /// whether the transaction's MAIL carried SMTPUTF8. The parameters are NOTIFY and ORCPT (RFC 3461); any other
    /// is <see cref="ArgumentError.UnsupportedParameter"/>.</summary>
    public static ArgumentError TryParseRcptTo(ReadOnlySpan<byte> argument, bool allowUtf8, out RcptToCommand command)
    {
        command = new RcptToCommand { DomainStart = -1 };
        if (!StartsWithIgnoreCase(argument, SmtpLiterals.To))
            return ArgumentError.Syntax;

        int pos = SmtpLiterals.To.Length;
        ArgumentError error = ParsePath(argument, ref pos, out ParsedPath path);
        if (error != ArgumentError.None)
            return error;
        if (path.IsNull)
            return ArgumentError.BadAddress;

        bool barePostmaster = false;
        if (path.DomainStart < 0)
        {
            if (!Ascii.EqualsIgnoreCase(argument.Slice(path.Start, path.Length), SmtpLiterals.Postmaster))
                return ArgumentError.BadAddress;
            barePostmaster = true;
        }

        if (path.HasNonAscii && !IsAllowedUtf8(argument.Slice(path.Start, path.Length), allowUtf8))
            return ArgumentError.BadAddress;

        var parameters = new RcptParameters { AllowUtf8 = allowUtf8 };
        error = ParseParameters(argument, pos, ref parameters, out int errorStart, out int errorLength);
        if (error != ArgumentError.None)
        {
            command = command with { ErrorStart = errorStart, ErrorLength = errorLength };
            return error;
        }

        command = new RcptToCommand
        {
            PathStart = path.Start,
            PathLength = path.Length,
            DomainStart = path.DomainStart,
            IsBarePostmaster = barePostmaster,
            HasNonAscii = path.HasNonAscii,
            Notify = parameters.Notify,
            OrcptStart = parameters.OrcptStart,
            OrcptLength = parameters.OrcptLength,
        };
        return ArgumentError.None;
    }

    private static bool IsAllowedUtf8(ReadOnlySpan<byte> mailbox, bool allowUtf8) => allowUtf8 && Utf8.IsValid(mailbox);

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> span, ReadOnlySpan<byte> prefix) =>
        span.Length >= prefix.Length && Ascii.EqualsIgnoreCase(span[..prefix.Length], prefix);

    private static bool TryParseDecimal(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        foreach (byte b in digits)
        {
            int digit = b - '0';
            if (value > (long.MaxValue - digit) / 10)
            {
                value = long.MaxValue;
                return false;
            }

            value = (value * 10) + digit;
        }

        return true;
    }
}
