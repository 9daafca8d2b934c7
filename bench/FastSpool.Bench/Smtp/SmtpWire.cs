// RFC 5321 §4.1.1 (commands), §4.1.1.4 (end of data), RFC 2920 (PIPELINING), RFC 3030 (CHUNKING).
namespace FastSpool.Bench.Smtp;

/// <summary>The client's protocol octets. Commands are arrays because async socket writes take memory, not spans.</summary>
internal static class SmtpWire
{
    public static readonly ReadOnlyMemory<byte> Ehlo = "EHLO localhost\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> Helo = "HELO localhost\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> Data = "DATA\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> Rset = "RSET\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> Quit = "QUIT\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> EndOfData = ".\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> StartTls = "STARTTLS\r\n"u8.ToArray();

    /// <summary><c>AUTH PLAIN base64(NUL user NUL password)</c> (RFC 4954, RFC 4616), made once per run.</summary>
    public static byte[] AuthPlain(string user, string password) => System.Text.Encoding.ASCII.GetBytes(
        "AUTH PLAIN " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"\0{user}\0{password}")) + "\r\n");

    /// <summary>EHLO keywords; replies are compared ASCII case-insensitively.</summary>
    public static ReadOnlySpan<byte> Pipelining => "PIPELINING"u8;
    public static ReadOnlySpan<byte> Chunking => "CHUNKING"u8;
}
