// RFC 5321 §4.1.2 (Mail-parameters, Rcpt-parameters, esmtp-keyword, esmtp-value); RFC 1870 §3 (SIZE);
// RFC 6152 §2 (BODY); RFC 6531 §3.4 (SMTPUTF8); RFC 3461 §4.1-4.4 (NOTIFY, ORCPT, RET, ENVID: values checked in
// SmtpCommandParser.Dsn.cs).
using System.Text;

namespace FastSpool.Protocols.Smtp;

/// <summary>MAIL and RCPT parameters.</summary>
public static partial class SmtpCommandParser
{
    private enum ParameterVerdict : byte
    {
        Taken,

        /// <summary>Malformed, duplicated or an invalid value: BadParameterValue, quoting the whole parameter.</summary>
        BadValue,

        /// <summary>A known keyword with a value we do not implement (BODY=BINARYMIME): UnsupportedParameter,
        /// quoting the whole parameter.</summary>
        UnsupportedValue,

        /// <summary>UnsupportedParameter, quoting the keyword.</summary>
        UnknownKeyword,
    }

    /// <summary>One command's parameters, taken one at a time. Implemented by structs, so that
    /// <see cref="ParseParameters{TSink}"/> is specialised for each and nothing is boxed.</summary>
    private interface IParameterSink
    {
        /// <summary>A well-formed esmtp-keyword with its value, which starts at <paramref name="valueStart"/> in
        /// the argument.</summary>
        ParameterVerdict Take(ReadOnlySpan<byte> keyword, bool hasValue, ReadOnlySpan<byte> value, int valueStart);
    }

    // Mail-parameters and Rcpt-parameters (RFC 5321 §4.1.2): esmtp-param *(SP esmtp-param),
    // esmtp-param = esmtp-keyword ["=" esmtp-value]. On an error, errorStart/errorLength is the text to quote.
    private static ArgumentError ParseParameters<TSink>(ReadOnlySpan<byte> argument, int pos, ref TSink sink,
        out int errorStart, out int errorLength)
        where TSink : struct, IParameterSink
    {
        errorStart = 0;
        errorLength = 0;
        if (pos < argument.Length && argument[pos] != SP)
            return ArgumentError.Syntax;

        while (NextParameter(argument, ref pos, out int start, out ReadOnlySpan<byte> keyword, out bool hasValue,
            out ReadOnlySpan<byte> value))
        {
            ParameterVerdict verdict = IsEsmtpKeyword(keyword)
                ? sink.Take(keyword, hasValue, value, pos - value.Length)
                : ParameterVerdict.BadValue;
            if (verdict == ParameterVerdict.Taken)
                continue;

            errorStart = start;
            errorLength = verdict == ParameterVerdict.UnknownKeyword ? keyword.Length : pos - start;
            return verdict == ParameterVerdict.BadValue ? ArgumentError.BadParameterValue : ArgumentError.UnsupportedParameter;
        }

        return ArgumentError.None;
    }

    /// <summary>MAIL: SIZE, BODY, SMTPUTF8, RET, ENVID, AUTH.</summary>
    private struct MailParameters : IParameterSink
    {
        public bool Auth;
        public long Size;
        public BodyType Body;
        public bool SmtpUtf8;
        public DsnReturn Ret;
        public int EnvIdStart;
        public int EnvIdLength;

        public ParameterVerdict Take(ReadOnlySpan<byte> keyword, bool hasValue, ReadOnlySpan<byte> value, int valueStart)
        {
            if (Ascii.EqualsIgnoreCase(keyword, SmtpLiterals.Size))
            {
                if (Size >= 0 || !hasValue || value.IsEmpty || value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
                    return ParameterVerdict.BadValue;
                _ = TryParseDecimal(value, out Size); // an overflow leaves long.MaxValue: too big, refused later
            }
            else if (Ascii.EqualsIgnoreCase(keyword, SmtpLiterals.Body))
            {
                if (Body != BodyType.Unspecified || !hasValue || !IsEsmtpValue(value))
                    return ParameterVerdict.BadValue;
                if (Ascii.EqualsIgnoreCase(value, SmtpLiterals.SevenBit))
                    Body = BodyType.SevenBit;
                else if (Ascii.EqualsIgnoreCase(value, SmtpLiterals.EightBitMime))
                    Body = BodyType.EightBitMime;
                else
                    return ParameterVerdict.UnsupportedValue; // e.g. BINARYMIME
            }
            else if (Ascii.EqualsIgnoreCase(keyword, SmtpLiterals.SmtpUtf8))
            {
                if (SmtpUtf8 || hasValue)
                    return ParameterVerdict.BadValue;
                SmtpUtf8 = true;
            }
            else if (Ascii.EqualsIgnoreCase(keyword, SmtpLiterals.Ret))
            {
                if (Ret != DsnReturn.Unspecified || !TryParseRet(value, out Ret))
                    return ParameterVerdict.BadValue;
            }
            else if (Ascii.EqualsIgnoreCase(keyword, SmtpLiterals.EnvId))
            {
                if (EnvIdLength != 0 || !IsEnvId(value))
                    return ParameterVerdict.BadValue;
                EnvIdStart = valueStart;
                EnvIdLength = value.Length;
            }
            else if (Ascii.EqualsIgnoreCase(keyword, SmtpLiterals.Auth))
            {
                // RFC 4954 §5: AUTH=<> or the xtext of a mailbox. Taken and not trusted: the session's own AUTH counts.
                if (Auth || !hasValue || !(value.SequenceEqual("<>"u8) || (value.Length <= 500 && !value.IsEmpty && Xtext.IsValid(value))))
                    return ParameterVerdict.BadValue;
                Auth = true;
            }
            else
            {
                return ParameterVerdict.UnknownKeyword;
            }

            return ParameterVerdict.Taken;
        }
    }

    /// <summary>RCPT: NOTIFY, ORCPT.</summary>
    private struct RcptParameters : IParameterSink
    {
        public DsnNotify Notify;
        public int OrcptStart;
        public int OrcptLength;

        /// <summary>Whether the transaction's MAIL carried SMTPUTF8 (ORCPT may then hold raw UTF-8).</summary>
        public bool AllowUtf8;

        public ParameterVerdict Take(ReadOnlySpan<byte> keyword, bool hasValue, ReadOnlySpan<byte> value, int valueStart)
        {
            if (Ascii.EqualsIgnoreCase(keyword, SmtpLiterals.Notify))
            {
                if (Notify != DsnNotify.None || !TryParseNotify(value, out Notify))
                    return ParameterVerdict.BadValue;
            }
            else if (Ascii.EqualsIgnoreCase(keyword, SmtpLiterals.Orcpt))
            {
                if (OrcptLength != 0 || !IsOriginalRecipient(value, AllowUtf8))
                    return ParameterVerdict.BadValue;
                OrcptStart = valueStart;
                OrcptLength = value.Length;
            }
            else
            {
                return ParameterVerdict.UnknownKeyword;
            }

            return ParameterVerdict.Taken;
        }
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
