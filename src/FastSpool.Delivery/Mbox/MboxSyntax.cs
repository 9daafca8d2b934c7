using System.Text;

namespace FastSpool.Delivery.Mbox;

/// <summary>The bytes of the mbox format as local delivery writes it: RFC 4155 "mboxo", with the separator lines
/// and the header fields to remove that Postfix local(8) uses.</summary>
internal static class MboxSyntax
{
    public static ReadOnlySpan<byte> From => "From "u8;
    public static ReadOnlySpan<byte> FromWithoutSpace => "From"u8;
    public static ReadOnlySpan<byte> MailerDaemon => "MAILER-DAEMON"u8;
    public static ReadOnlySpan<byte> ReturnPathStart => "Return-Path: <"u8;
    public static ReadOnlySpan<byte> ReturnPathEnd => ">\n"u8;
    public static ReadOnlySpan<byte> DeliveredTo => "Delivered-To: "u8;
    public static ReadOnlySpan<byte> DayNames => "SunMonTueWedThuFriSat"u8;
    public static ReadOnlySpan<byte> MonthNames => "JanFebMarAprMayJunJulAugSepOctNovDec"u8;
    public static ReadOnlySpan<byte> Whitespace => " \t"u8;

    /// <summary>Length of an asctime(3) date without its newline: <c>Thu Jan  1 00:00:00 1970</c>.</summary>
    public const int AsctimeLength = 24;

    public const byte Cr = (byte)'\r';
    public const byte Lf = (byte)'\n';
    public const byte Space = (byte)' ';
    public const byte Tab = (byte)'\t';
    public const byte Colon = (byte)':';
    public const byte Quote = (byte)'>';
    public const byte Underscore = (byte)'_';

    /// <summary>The printable ASCII range, <c>!</c> to <c>~</c>: what a From_ line's sender token may hold.</summary>
    public const byte FirstPrintable = 0x21;
    public const byte LastPrintable = 0x7E;

    /// <summary>The longest name in <see cref="IsStrippedFieldName"/> (<c>Content-Length</c>).</summary>
    public const int LongestStrippedFieldName = 14;

    // Status and X-Status carry the read/answered flags, X-UID/X-IMAP/X-IMAPbase/X-Keywords the IMAP state that
    // mbox servers keep in the file, Content-Length the length some readers trust over From_ lines: a sender
    // must not be able to set any of them.
    public static bool IsStrippedFieldName(ReadOnlySpan<byte> name) =>
        Ascii.EqualsIgnoreCase(name, "Status"u8)
        || Ascii.EqualsIgnoreCase(name, "X-Status"u8)
        || Ascii.EqualsIgnoreCase(name, "X-UID"u8)
        || Ascii.EqualsIgnoreCase(name, "X-IMAP"u8)
        || Ascii.EqualsIgnoreCase(name, "X-IMAPbase"u8)
        || Ascii.EqualsIgnoreCase(name, "X-Keywords"u8)
        || Ascii.EqualsIgnoreCase(name, "Content-Length"u8);

    public static bool StartsStrippedFieldName(ReadOnlySpan<byte> prefix) =>
        StartsIgnoreCase("Status"u8, prefix)
        || StartsIgnoreCase("X-Status"u8, prefix)
        || StartsIgnoreCase("X-IMAPbase"u8, prefix) // also covers X-IMAP
        || StartsIgnoreCase("X-UID"u8, prefix)
        || StartsIgnoreCase("X-Keywords"u8, prefix)
        || StartsIgnoreCase("Content-Length"u8, prefix);

    private static bool StartsIgnoreCase(ReadOnlySpan<byte> name, ReadOnlySpan<byte> prefix) =>
        prefix.Length <= name.Length && Ascii.EqualsIgnoreCase(name[..prefix.Length], prefix);
}
