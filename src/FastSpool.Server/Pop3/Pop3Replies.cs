// RFC 1939 (replies +OK/-ERR), RFC 2449 §8 (response codes IN-USE, LOGIN-DELAY, SYS/TEMP, SYS/PERM), RFC 3206 (AUTH),
// RFC 5034 §4 (the "+ " continuation).
namespace FastSpool.Server.Pop3;

/// <summary>The POP3 replies that have no variable part, as octets.</summary>
internal static class Pop3Replies
{
    public static ReadOnlySpan<byte> Ok => "+OK\r\n"u8;
    public static ReadOnlySpan<byte> Continue => "+ \r\n"u8;
    public static ReadOnlySpan<byte> Deleted => "+OK message deleted\r\n"u8;
    public static ReadOnlySpan<byte> Bye => "+OK FastSpool POP3 server signing off\r\n"u8;
    public static ReadOnlySpan<byte> MultilineFollows => "+OK\r\n"u8;
    public static ReadOnlySpan<byte> MechanismList => "+OK\r\nPLAIN\r\n.\r\n"u8;
    public static ReadOnlySpan<byte> End => ".\r\n"u8;
    public static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    public static ReadOnlySpan<byte> UnknownCommand => "-ERR unknown command\r\n"u8;
    public static ReadOnlySpan<byte> NotInAuthorization => "-ERR command not valid before login\r\n"u8;
    public static ReadOnlySpan<byte> NotInTransaction => "-ERR command not valid after login\r\n"u8;
    public static ReadOnlySpan<byte> LineTooLong => "-ERR line too long\r\n"u8;
    public static ReadOnlySpan<byte> TooManyErrors => "-ERR too many errors\r\n"u8;
    public static ReadOnlySpan<byte> NoSuchMessage => "-ERR no such message\r\n"u8;
    public static ReadOnlySpan<byte> MessageDeleted => "-ERR message is deleted\r\n"u8;
    public static ReadOnlySpan<byte> NeedMessageNumber => "-ERR syntax: a message number is needed\r\n"u8;
    public static ReadOnlySpan<byte> BadMessageNumber => "-ERR syntax: invalid message number\r\n"u8;
    public static ReadOnlySpan<byte> TopSyntax => "-ERR syntax: TOP message lines\r\n"u8;
    public static ReadOnlySpan<byte> UnexpectedArgument => "-ERR syntax: unexpected argument\r\n"u8;
    public static ReadOnlySpan<byte> UserSyntax => "-ERR syntax: USER name\r\n"u8;
    public static ReadOnlySpan<byte> PassSyntax => "-ERR syntax: PASS password\r\n"u8;
    public static ReadOnlySpan<byte> UserFirst => "-ERR give USER first\r\n"u8;
    public static ReadOnlySpan<byte> AuthFailed => "-ERR [AUTH] authentication failed\r\n"u8;
    public static ReadOnlySpan<byte> LockedOut => "-ERR [AUTH] too many failed logins from your address; try again later\r\n"u8;
    public static ReadOnlySpan<byte> PlaintextRefused =>
        "-ERR [AUTH] plaintext authentication is not allowed on a connection without TLS (Pop3:AllowPlaintextWithoutTls)\r\n"u8;
    public static ReadOnlySpan<byte> AuthCancelled => "-ERR authentication cancelled\r\n"u8;
    public static ReadOnlySpan<byte> NotBase64 => "-ERR invalid base64 in the SASL response\r\n"u8;
    public static ReadOnlySpan<byte> MalformedPlain => "-ERR [AUTH] malformed PLAIN response\r\n"u8;
    public static ReadOnlySpan<byte> UnsupportedMechanism => "-ERR unsupported SASL mechanism (PLAIN is offered)\r\n"u8;
    public static ReadOnlySpan<byte> InUse => "-ERR [IN-USE] the maildrop is in use by another session; try again later\r\n"u8;
    public static ReadOnlySpan<byte> MaildropUnavailable => "-ERR [SYS/TEMP] the maildrop cannot be opened now; try again later\r\n"u8;
    public static ReadOnlySpan<byte> MaildropBroken => "-ERR [SYS/PERM] the maildrop cannot be read; ask the administrator\r\n"u8;
    public static ReadOnlySpan<byte> StlsUnavailable => "-ERR STLS is not available\r\n"u8;
    public static ReadOnlySpan<byte> StlsActive => "-ERR TLS is already active\r\n"u8;
    public static ReadOnlySpan<byte> StlsSyntax => "-ERR STLS takes no argument\r\n"u8;
    public static ReadOnlySpan<byte> BeginTls => "+OK Begin TLS negotiation\r\n"u8;
    public static ReadOnlySpan<byte> ApopUnsupported => "-ERR APOP is not supported\r\n"u8;
    public static ReadOnlySpan<byte> UpdateFailed => "-ERR [SYS/TEMP] the deleted messages could not be removed; they are all still there\r\n"u8;
    public static ReadOnlySpan<byte> Autologout => "-ERR autologout: no command for too long\r\n"u8;
    public static ReadOnlySpan<byte> ShuttingDown => "-ERR [SYS/TEMP] the server is stopping\r\n"u8;
    public static ReadOnlySpan<byte> ServerFull => "-ERR [SYS/TEMP] too many connections\r\n"u8;
    public static ReadOnlySpan<byte> TooManyFromClient => "-ERR [SYS/TEMP] too many connections from your address\r\n"u8;

    // Parts of replies with numbers.
    public static ReadOnlySpan<byte> OkPrefix => "+OK "u8;
    public static ReadOnlySpan<byte> MessagesSuffix => " messages ("u8;
    public static ReadOnlySpan<byte> OctetsSuffix => " octets)\r\n"u8;
    public static ReadOnlySpan<byte> RetrSuffix => " octets\r\n"u8;
    public static ReadOnlySpan<byte> LoggedInPrefix => "+OK logged in, maildrop has "u8;
}
