// RFC 5321 §4.1.1 (commands), §4.1.2 (Path, Mailbox, Local-part, Domain, address literals), §4.1.3 (IPv4/IPv6
// literals), §4.5.1 (postmaster), §4.5.3.1.1-3 (64/255/256-octet limits), §C (source routes); RFC 3030 §2 (BDAT);
// RFC 1870 §3 (SIZE); RFC 6152 §2 (BODY); RFC 6531 §3.3, §3.4 (UTF-8 addresses, SMTPUTF8).
using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Unicode;

namespace FastSpool.Protocols.Smtp;

/// <summary>Pure parsers for SMTP command lines and their arguments. No I/O, no allocation.</summary>
public static class SmtpCommandParser
{
    private const byte SP = (byte)' ';
    private const int MaxLocalPartLength = 64;
    private const int MaxDomainLength = 255;
    private const int MaxPathLength = 256;

    // RFC 5322 atext, plus every octet >= 0x80 so UTF-8 runs stay in the vectorised scan; whether those are
    // allowed is decided once the whole command is known (SMTPUTF8 may follow the path).
    private static readonly SearchValues<byte> s_atext =
        WithNonAscii("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~"u8);

    // Letters, digits and hyphen (RFC 5321 Let-dig / Ldh-str), with underscore as real-world DNS names use it.
    private static readonly SearchValues<byte> s_labelOctets =
        WithNonAscii("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"u8);


    private static SearchValues<byte> WithNonAscii(ReadOnlySpan<byte> ascii)
    {
        byte[] octets = new byte[ascii.Length + 128];
        ascii.CopyTo(octets);
        for (int i = 0; i < 128; i++)
            octets[ascii.Length + i] = (byte)(0x80 + i);
        return SearchValues.Create(octets);
    }

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

    /// <summary>MAIL argument <c>FROM:&lt;reverse-path&gt; [SP mail-parameters]</c>.</summary>
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

        long size = -1;
        BodyType body = BodyType.Unspecified;
        bool smtpUtf8 = false;
        error = ParseMailParameters(argument, pos, ref size, ref body, ref smtpUtf8, out int errorStart, out int errorLength);
        if (error != ArgumentError.None)
        {
            command = command with { ErrorStart = errorStart, ErrorLength = errorLength };
            return error;
        }

        if (path.HasNonAscii && !IsAllowedUtf8(argument.Slice(path.Start, path.Length), smtpUtf8))
            return ArgumentError.BadAddress;

        command = new MailFromCommand
        {
            PathStart = path.Start,
            PathLength = path.Length,
            DomainStart = path.DomainStart,
            IsNullPath = path.IsNull,
            HasNonAscii = path.HasNonAscii,
            Size = size,
            Body = body,
            SmtpUtf8 = smtpUtf8,
        };
        return ArgumentError.None;
    }

    /// <summary>RCPT argument <c>TO:&lt;forward-path&gt;</c>. <paramref name="allowUtf8"/> is whether the
    /// transaction's MAIL carried SMTPUTF8. No RCPT parameters are supported yet.</summary>
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

        error = ParseNoParameters(argument, pos, out int errorStart, out int errorLength);
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
        };
        return ArgumentError.None;
    }

    private static bool IsAllowedUtf8(ReadOnlySpan<byte> mailbox, bool allowUtf8) => allowUtf8 && Utf8.IsValid(mailbox);

    private struct ParsedPath
    {
        public int Start;
        public int Length;
        public int DomainStart;
        public bool IsNull;
        public bool HasNonAscii;
    }

    // *SP "<" [ A-d-l ":" ] Mailbox ">"  or  *SP "<>". On success pos is just past the ">".
    private static ArgumentError ParsePath(ReadOnlySpan<byte> argument, ref int pos, out ParsedPath path)
    {
        path = new ParsedPath { DomainStart = -1 };
        int length = argument.Length;
        while (pos < length && argument[pos] == SP)
            pos++;
        if (pos == length || argument[pos] != (byte)'<')
            return ArgumentError.Syntax;

        int open = pos++;
        if (pos < length && argument[pos] == (byte)'>')
        {
            pos++;
            path = new ParsedPath { Start = open + 1, DomainStart = -1, IsNull = true };
            return ArgumentError.None;
        }

        // A source route is still accepted and then ignored (RFC 5321 §4.1.2, Appendix C).
        if (pos < length && argument[pos] == (byte)'@')
        {
            while (true)
            {
                pos++;
                if (!SkipDomain(argument, ref pos) || pos == length)
                    return ArgumentError.BadAddress;
                byte separator = argument[pos++];
                if (separator == (byte)':')
                    break;
                if (separator != (byte)',' || pos == length || argument[pos] != (byte)'@')
                    return ArgumentError.BadAddress;
            }
        }

        int mailboxStart = pos;
        if (!SkipLocalPart(argument, ref pos))
            return ArgumentError.BadAddress;
        int localPartEnd = pos;
        int domainStart = -1;
        if (pos < length && argument[pos] == (byte)'@')
        {
            domainStart = ++pos;
            if (!SkipDomain(argument, ref pos))
                return ArgumentError.BadAddress;
        }

        int mailboxEnd = pos;
        if (pos == length || argument[pos] != (byte)'>')
            return ArgumentError.BadAddress;
        pos++;

        // RFC 5321 §4.5.3.1.3: the path limit counts the brackets and any source route.
        if (localPartEnd - mailboxStart > MaxLocalPartLength
            || (domainStart >= 0 && mailboxEnd - domainStart > MaxDomainLength)
            || pos - open > MaxPathLength)
            return ArgumentError.PathTooLong;

        path = new ParsedPath
        {
            Start = mailboxStart,
            Length = mailboxEnd - mailboxStart,
            DomainStart = domainStart,
            HasNonAscii = !Ascii.IsValid(argument[open..pos]),
        };
        return ArgumentError.None;
    }

    // Dot-string (RFC 5321 §4.1.2: Atom *("." Atom)) or Quoted-string.
    private static bool SkipLocalPart(ReadOnlySpan<byte> argument, ref int pos)
    {
        if (pos < argument.Length && argument[pos] == (byte)'"')
            return SkipQuotedString(argument, ref pos);
        return SkipDotSeparated(argument, ref pos, s_atext);
    }

    // DQUOTE *QcontentSMTP DQUOTE; qtextSMTP is %d32-33 / %d35-91 / %d93-126 (and UTF-8, RFC 6531),
    // quoted-pairSMTP is "\" %d32-126.
    private static bool SkipQuotedString(ReadOnlySpan<byte> argument, ref int pos)
    {
        int i = pos + 1;
        while (i < argument.Length)
        {
            byte b = argument[i];
            if (b == (byte)'"')
            {
                pos = i + 1;
                return true;
            }

            if (b == (byte)'\\')
            {
                i++;
                if (i == argument.Length || argument[i] < 32 || argument[i] > 126)
                    return false;
            }
            else if (b < 32 || b == 127)
            {
                return false;
            }

            i++;
        }

        return false;
    }

    // 1*octet *("." 1*octet): no empty element, so no leading, trailing or doubled dot.
    private static bool SkipDotSeparated(ReadOnlySpan<byte> argument, ref int pos, SearchValues<byte> octets)
    {
        while (true)
        {
            int run = argument[pos..].IndexOfAnyExcept(octets);
            if (run < 0)
                run = argument.Length - pos;
            if (run == 0)
                return false;
            pos += run;
            if (pos == argument.Length || argument[pos] != (byte)'.')
                return true;
            pos++;
        }
    }

    private static bool SkipDomain(ReadOnlySpan<byte> argument, ref int pos)
    {
        if (pos < argument.Length && argument[pos] == (byte)'[')
            return SkipAddressLiteral(argument, ref pos);
        return SkipDotSeparated(argument, ref pos, s_labelOctets);
    }

    // "[" ( IPv4-address-literal / "IPv6:" IPv6-addr ) "]"; general address literals are not accepted.
    private static bool SkipAddressLiteral(ReadOnlySpan<byte> argument, ref int pos)
    {
        int close = argument[pos..].IndexOf((byte)']');
        if (close < 0)
            return false;
        ReadOnlySpan<byte> literal = argument.Slice(pos + 1, close - 1);
        bool valid = StartsWithIgnoreCase(literal, SmtpLiterals.IPv6Tag)
            ? IsIPv6Address(literal[SmtpLiterals.IPv6Tag.Length..])
            : IsIPv4Address(literal);
        pos += close + 1;
        return valid;
    }

    // Snum 3("." Snum), Snum = 1*3DIGIT with a value of 0-255. Stricter than IPAddress.TryParse, which takes
    // forms such as "127.1" or hexadecimal parts.
    private static bool IsIPv4Address(ReadOnlySpan<byte> literal)
    {
        int parts = 0;
        int i = 0;
        while (true)
        {
            int value = 0;
            int digits = 0;
            while (i < literal.Length && digits < 4 && char.IsAsciiDigit((char)literal[i]))
            {
                value = (value * 10) + (literal[i] - '0');
                digits++;
                i++;
            }

            if (digits is 0 or > 3 || value > 255)
                return false;
            if (++parts == 4)
                return i == literal.Length;
            if (i == literal.Length || literal[i] != (byte)'.')
                return false;
            i++;
        }
    }

    // RFC 5321 §4.1.3 IPv6-addr: 8 groups of 1-4 hex digits, or fewer around one "::", and optionally a dotted IPv4
    // address as the last two groups (IPv6v4-full / IPv6v4-comp). Checked here without building an IPAddress.
    private static bool IsIPv6Address(ReadOnlySpan<byte> literal)
    {
        if (literal.IsEmpty)
            return false;
        int groups = 0;
        bool compressed = false;
        int i = 0;
        if (literal.StartsWith("::"u8))
        {
            compressed = true;
            i = 2;
            if (i == literal.Length)
                return true;
        }
        else if (literal[0] == (byte)':')
        {
            return false;
        }
        while (true)
        {
            int start = i;
            while (i < literal.Length && i - start < 5 && char.IsAsciiHexDigit((char)literal[i]))
                i++;
            int digits = i - start;
            if (i < literal.Length && literal[i] == (byte)'.')
            {
                // The rest is an IPv4 address, worth two groups.
                if (!IsIPv4Address(literal[start..]))
                    return false;
                groups += 2;
                break;
            }
            if (digits is 0 or > 4)
                return false;
            groups++;
            if (i == literal.Length)
                break;
            if (literal[i] != (byte)':')
                return false;
            i++;
            if (i < literal.Length && literal[i] == (byte)':')
            {
                if (compressed)
                    return false;
                compressed = true;
                i++;
                if (i == literal.Length)
                    break;
            }
            else if (i == literal.Length)
            {
                return false;
            }
        }
        return compressed ? groups <= 7 : groups == 8;
    }

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

    // Mail-parameters (RFC 5321 §4.1.2): esmtp-param *(SP esmtp-param), esmtp-param = esmtp-keyword ["=" esmtp-value].
    private static ArgumentError ParseMailParameters(ReadOnlySpan<byte> argument, int pos, ref long size,
        ref BodyType body, ref bool smtpUtf8, out int errorStart, out int errorLength)
    {
        errorStart = 0;
        errorLength = 0;
        if (pos < argument.Length && argument[pos] != SP)
            return ArgumentError.Syntax;

        while (NextParameter(argument, ref pos, out int start, out ReadOnlySpan<byte> keyword, out bool hasValue,
            out ReadOnlySpan<byte> value))
        {
            errorStart = start;
            errorLength = pos - start;
            if (!IsEsmtpKeyword(keyword))
                return ArgumentError.BadParameterValue;

            if (Ascii.EqualsIgnoreCase(keyword, SmtpLiterals.Size))
            {
                if (size >= 0 || !hasValue || value.IsEmpty || value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
                    return ArgumentError.BadParameterValue;
                _ = TryParseDecimal(value, out size); // an overflow leaves long.MaxValue: too big, refused later
            }
            else if (Ascii.EqualsIgnoreCase(keyword, SmtpLiterals.Body))
            {
                if (body != BodyType.Unspecified || !hasValue || !IsEsmtpValue(value))
                    return ArgumentError.BadParameterValue;
                if (Ascii.EqualsIgnoreCase(value, SmtpLiterals.SevenBit))
                    body = BodyType.SevenBit;
                else if (Ascii.EqualsIgnoreCase(value, SmtpLiterals.EightBitMime))
                    body = BodyType.EightBitMime;
                else
                    return ArgumentError.UnsupportedParameter; // e.g. BINARYMIME: quote the whole parameter
            }
            else if (Ascii.EqualsIgnoreCase(keyword, SmtpLiterals.SmtpUtf8))
            {
                if (smtpUtf8 || hasValue)
                    return ArgumentError.BadParameterValue;
                smtpUtf8 = true;
            }
            else
            {
                errorLength = keyword.Length;
                return ArgumentError.UnsupportedParameter;
            }
        }

        errorStart = 0;
        errorLength = 0;
        return ArgumentError.None;
    }

    private static ArgumentError ParseNoParameters(ReadOnlySpan<byte> argument, int pos, out int errorStart,
        out int errorLength)
    {
        errorStart = 0;
        errorLength = 0;
        if (pos < argument.Length && argument[pos] != SP)
            return ArgumentError.Syntax;
        if (!NextParameter(argument, ref pos, out int start, out ReadOnlySpan<byte> keyword, out _, out _))
            return ArgumentError.None;

        errorStart = start;
        if (!IsEsmtpKeyword(keyword))
        {
            errorLength = pos - start;
            return ArgumentError.BadParameterValue;
        }

        errorLength = keyword.Length;
        return ArgumentError.UnsupportedParameter;
    }

    // Next SP-separated parameter; pos ends just past it.
    private static bool NextParameter(ReadOnlySpan<byte> argument, ref int pos, out int start,
        out ReadOnlySpan<byte> keyword, out bool hasValue, out ReadOnlySpan<byte> value)
    {
        while (pos < argument.Length && argument[pos] == SP)
            pos++;
        start = pos;
        if (pos == argument.Length)
        {
            keyword = default;
            hasValue = false;
            value = default;
            return false;
        }

        int end = argument[pos..].IndexOf(SP);
        end = end < 0 ? argument.Length : pos + end;
        ReadOnlySpan<byte> parameter = argument[pos..end];
        pos = end;
        int equals = parameter.IndexOf((byte)'=');
        hasValue = equals >= 0;
        keyword = hasValue ? parameter[..equals] : parameter;
        value = hasValue ? parameter[(equals + 1)..] : default;
        return true;
    }

    // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"). Only well-formed keywords are echoed in replies.
    private static bool IsEsmtpKeyword(ReadOnlySpan<byte> keyword)
    {
        if (keyword.IsEmpty || !char.IsAsciiLetterOrDigit((char)keyword[0]))
            return false;
        foreach (byte b in keyword[1..])
        {
            if (!char.IsAsciiLetterOrDigit((char)b) && b != (byte)'-')
                return false;
        }

        return true;
    }

    // esmtp-value = 1*(%d33-60 / %d62-126).
    private static bool IsEsmtpValue(ReadOnlySpan<byte> value) =>
        !value.IsEmpty && value.IndexOfAnyExceptInRange((byte)33, (byte)126) < 0 && value.IndexOf((byte)'=') < 0;
}
