// RFC 5321 §4.1.2 (Path, Mailbox, Local-part, Domain, address literals), §4.1.3 (IPv4/IPv6 literals),
// §4.5.3.1.1-3 (64/255/256-octet limits), §C (source routes); RFC 6531 §3.3 (UTF-8 addresses).
using System.Buffers;
using System.Text;

namespace FastSpool.Protocols.Smtp;

/// <summary>Reverse- and forward-paths.</summary>
public static partial class SmtpCommandParser
{
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
}
