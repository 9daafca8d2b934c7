// RFC 5321 §4.1.2 (Mail-parameters, Rcpt-parameters, esmtp-keyword, esmtp-value); RFC 1870 §3 (SIZE);
// RFC 6152 §2 (BODY); RFC 6531 §3.4 (SMTPUTF8).
using System.Text;

namespace FastSpool.Protocols.Smtp;

/// <summary>MAIL and RCPT parameters.</summary>
public static partial class SmtpCommandParser
{
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
