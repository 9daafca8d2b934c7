// RFC 5321 §4.1.1 (verbs), §4.1.2 (FROM:/TO:, address literals), §4.5.1 (postmaster); RFC 3030 §2 (LAST);
// RFC 1870 (SIZE), RFC 6152 (BODY), RFC 6531 (SMTPUTF8), RFC 3461 §4.1-4.4 (DSN parameters); RFC 5322 §3.6.7
// (Received).
namespace FastSpool.Protocols.Smtp;

/// <summary>SMTP protocol octets, matched byte-wise (ASCII case-insensitive where the RFCs say so).</summary>
internal static class SmtpLiterals
{
    public static ReadOnlySpan<byte> Helo => "HELO"u8;
    public static ReadOnlySpan<byte> Ehlo => "EHLO"u8;
    public static ReadOnlySpan<byte> Mail => "MAIL"u8;
    public static ReadOnlySpan<byte> Rcpt => "RCPT"u8;
    public static ReadOnlySpan<byte> Data => "DATA"u8;
    public static ReadOnlySpan<byte> Bdat => "BDAT"u8;
    public static ReadOnlySpan<byte> Rset => "RSET"u8;
    public static ReadOnlySpan<byte> Noop => "NOOP"u8;
    public static ReadOnlySpan<byte> Quit => "QUIT"u8;
    public static ReadOnlySpan<byte> Vrfy => "VRFY"u8;
    public static ReadOnlySpan<byte> Expn => "EXPN"u8;
    public static ReadOnlySpan<byte> Help => "HELP"u8;
    public static ReadOnlySpan<byte> StartTls => "STARTTLS"u8;
    public static ReadOnlySpan<byte> Auth => "AUTH"u8;

    public static ReadOnlySpan<byte> From => "FROM:"u8;
    public static ReadOnlySpan<byte> To => "TO:"u8;
    public static ReadOnlySpan<byte> Postmaster => "postmaster"u8;
    public static ReadOnlySpan<byte> IPv6Tag => "IPv6:"u8;
    public static ReadOnlySpan<byte> Last => "LAST"u8;

    public static ReadOnlySpan<byte> Size => "SIZE"u8;
    public static ReadOnlySpan<byte> Body => "BODY"u8;
    public static ReadOnlySpan<byte> SevenBit => "7BIT"u8;
    public static ReadOnlySpan<byte> EightBitMime => "8BITMIME"u8;
    public static ReadOnlySpan<byte> SmtpUtf8 => "SMTPUTF8"u8;

    public static ReadOnlySpan<byte> Ret => "RET"u8;
    public static ReadOnlySpan<byte> Full => "FULL"u8;
    public static ReadOnlySpan<byte> Hdrs => "HDRS"u8;
    public static ReadOnlySpan<byte> EnvId => "ENVID"u8;
    public static ReadOnlySpan<byte> Notify => "NOTIFY"u8;
    public static ReadOnlySpan<byte> Never => "NEVER"u8;
    public static ReadOnlySpan<byte> Success => "SUCCESS"u8;
    public static ReadOnlySpan<byte> Failure => "FAILURE"u8;
    public static ReadOnlySpan<byte> Delay => "DELAY"u8;
    public static ReadOnlySpan<byte> Orcpt => "ORCPT"u8;

    /// <summary>Lower case, so that OR-ing 0x20 into a letter compares it case-insensitively.</summary>
    public static ReadOnlySpan<byte> ReceivedFieldLower => "received:"u8;
}
