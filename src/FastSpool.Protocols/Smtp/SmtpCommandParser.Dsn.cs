// RFC 3461 §4 (xtext), §4.1 (NOTIFY), §4.2 (ORCPT), §4.3 (RET), §4.4 (ENVID); RFC 6533 §3 (ORCPT type utf-8).
using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace FastSpool.Protocols.Smtp;

/// <summary>The values of the DSN parameters. ENVID and ORCPT are checked, not decoded: the command keeps their
/// range in the argument, as sent.</summary>
public static partial class SmtpCommandParser
{
    private const int MaxEnvIdLength = 100;
    private const int MaxOriginalRecipientLength = 500;

    // RFC 5322 atext without "=", which an esmtp-value cannot hold.
    private static readonly SearchValues<byte> s_addrTypeOctets =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/?^_`{|}~"u8);

    // ret-value = "FULL" / "HDRS"
    private static bool TryParseRet(ReadOnlySpan<byte> value, out DsnReturn ret)
    {
        ret = Ascii.EqualsIgnoreCase(value, SmtpLiterals.Full) ? DsnReturn.Full
            : Ascii.EqualsIgnoreCase(value, SmtpLiterals.Hdrs) ? DsnReturn.Headers
            : DsnReturn.Unspecified;
        return ret != DsnReturn.Unspecified;
    }

    // envid-parameter = "ENVID=" xtext, at most 100 octets as sent; an esmtp-value is never empty.
    private static bool IsEnvId(ReadOnlySpan<byte> value) =>
        !value.IsEmpty && value.Length <= MaxEnvIdLength && Xtext.IsValid(value);

    // notify-esmtp-value = "NEVER" / 1#notify-list-element, notify-list-element = "SUCCESS" / "FAILURE" / "DELAY".
    // NEVER stands alone; an element given twice or an empty element is an error.
    private static bool TryParseNotify(ReadOnlySpan<byte> value, out DsnNotify notify)
    {
        notify = DsnNotify.None;
        if (Ascii.EqualsIgnoreCase(value, SmtpLiterals.Never))
        {
            notify = DsnNotify.Never;
            return true;
        }

        while (true)
        {
            int comma = value.IndexOf((byte)',');
            ReadOnlySpan<byte> element = comma < 0 ? value : value[..comma];
            DsnNotify flag = Ascii.EqualsIgnoreCase(element, SmtpLiterals.Success) ? DsnNotify.Success
                : Ascii.EqualsIgnoreCase(element, SmtpLiterals.Failure) ? DsnNotify.Failure
                : Ascii.EqualsIgnoreCase(element, SmtpLiterals.Delay) ? DsnNotify.Delay
                : DsnNotify.None;
            if (flag == DsnNotify.None || (notify & flag) != 0)
            {
                notify = DsnNotify.None;
                return false;
            }

            notify |= flag;
            if (comma < 0)
                return true;
            value = value[(comma + 1)..];
        }
    }

    // original-recipient-address = addr-type ";" xtext, addr-type = atom; at most 500 octets as sent. Any addr-type
    // is taken: rfc822, and utf-8 with RFC 6533 utf-8-addr-xtext, whose \x{HEX} escapes are xchars; and in an SMTPUTF8
    // transaction (RFC 6531 §3.3 lets esmtp-value hold UTF-8 then) utf-8's raw form, utf-8-addr-unitext, whose
    // non-ASCII octets must be well-formed UTF-8. Raw UTF-8 in any other type is refused.
    private static bool IsOriginalRecipient(ReadOnlySpan<byte> value, bool allowUtf8)
    {
        if (value.Length > MaxOriginalRecipientLength)
            return false;
        int semicolon = value.IndexOf((byte)';');
        if (semicolon <= 0 || value[..semicolon].ContainsAnyExcept(s_addrTypeOctets))
            return false;
        ReadOnlySpan<byte> xtext = value[(semicolon + 1)..];
        if (xtext.IsEmpty)
            return false;
        if (Xtext.IsValid(xtext))
            return true;
        if (!allowUtf8 || !Utf8AddrXtext.IsUtf8Type(value) || !Utf8.IsValid(xtext))
            return false;
        // The ASCII between the UTF-8 sequences must still be xchars.
        foreach (byte b in xtext)
        {
            if (b < 0x80 && !Xtext.IsValid(new ReadOnlySpan<byte>(in b)))
                return false;
        }
        return true;
    }
}
