// RFC 1939 §§4-7, RFC 2449 §5, RFC 5034 §4.
namespace FastSpool.Protocols.Pop3;

/// <summary>POP3 command keywords, matched byte-wise and case-insensitively (RFC 1939 §3).</summary>
internal static class Pop3Literals
{
    public static ReadOnlySpan<byte> User => "USER"u8;
    public static ReadOnlySpan<byte> Pass => "PASS"u8;
    public static ReadOnlySpan<byte> Auth => "AUTH"u8;
    public static ReadOnlySpan<byte> Apop => "APOP"u8;
    public static ReadOnlySpan<byte> Stls => "STLS"u8;
    public static ReadOnlySpan<byte> Capa => "CAPA"u8;
    public static ReadOnlySpan<byte> Stat => "STAT"u8;
    public static ReadOnlySpan<byte> List => "LIST"u8;
    public static ReadOnlySpan<byte> Retr => "RETR"u8;
    public static ReadOnlySpan<byte> Dele => "DELE"u8;
    public static ReadOnlySpan<byte> Noop => "NOOP"u8;
    public static ReadOnlySpan<byte> Rset => "RSET"u8;
    public static ReadOnlySpan<byte> Quit => "QUIT"u8;
    public static ReadOnlySpan<byte> Top => "TOP"u8;
    public static ReadOnlySpan<byte> Uidl => "UIDL"u8;
    public static ReadOnlySpan<byte> Plain => "PLAIN"u8;
}
