namespace FastSpool.Server.Smtp;

/// <summary>Fixed SMTP replies (RFC 5321 §4.2, enhanced codes RFC 3463), worded like Postfix's so that admins
/// and log parsers recognise them. Replies with variable parts are written by <see cref="SmtpReplyWriter"/> and <see cref="SmtpSession"/>.</summary>
internal static class SmtpReplies
{
    public static ReadOnlySpan<byte> MailOk => "250 2.1.0 Ok\r\n"u8;
    public static ReadOnlySpan<byte> RcptOk => "250 2.1.5 Ok\r\n"u8;
    public static ReadOnlySpan<byte> Ok => "250 2.0.0 Ok\r\n"u8;
    public static ReadOnlySpan<byte> StartMailInput => "354 End data with <CR><LF>.<CR><LF>\r\n"u8;
    public static ReadOnlySpan<byte> Vrfy => "252 2.0.0 Send some mail, I'll try my best\r\n"u8;
    public static ReadOnlySpan<byte> Closing => "221 2.0.0 Bye\r\n"u8;
    public static ReadOnlySpan<byte> Help => "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP\r\n"u8;

    public static ReadOnlySpan<byte> CommandUnrecognized => "500 5.5.2 Error: command not recognized\r\n"u8;
    public static ReadOnlySpan<byte> LineTooLong => "500 5.5.2 Error: line too long\r\n"u8;
    public static ReadOnlySpan<byte> CommandBareLf => "500 5.5.2 Error: bare <LF> received\r\n"u8;
    public static ReadOnlySpan<byte> NotImplemented => "502 5.5.1 Error: command not implemented\r\n"u8;
    public static ReadOnlySpan<byte> HeloSyntax => "501 5.5.4 Syntax: HELO hostname\r\n"u8;
    public static ReadOnlySpan<byte> EhloSyntax => "501 5.5.4 Syntax: EHLO hostname\r\n"u8;
    public static ReadOnlySpan<byte> MailSyntax => "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"u8;
    public static ReadOnlySpan<byte> RcptSyntax => "501 5.5.4 Syntax: RCPT TO:<address>\r\n"u8;
    public static ReadOnlySpan<byte> BdatSyntax => "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n"u8;
    public static ReadOnlySpan<byte> NoArguments => "501 5.5.4 Syntax: no arguments allowed\r\n"u8;
    public static ReadOnlySpan<byte> BadSender => "501 5.1.7 Bad sender address syntax\r\n"u8;
    public static ReadOnlySpan<byte> SenderTooLong => "501 5.1.7 Bad sender address syntax: path too long\r\n"u8;
    public static ReadOnlySpan<byte> BadRecipient => "501 5.1.3 Bad recipient address syntax\r\n"u8;
    public static ReadOnlySpan<byte> RecipientTooLong => "501 5.1.3 Bad recipient address syntax: path too long\r\n"u8;
    public static ReadOnlySpan<byte> BadParameterValue => "501 5.5.4 Bad parameter value\r\n"u8;
    public static ReadOnlySpan<byte> NoExtensions => "555 5.5.4 Unsupported option: no SMTP extensions after HELO\r\n"u8;
    public static ReadOnlySpan<byte> SendHeloFirst => "503 5.5.1 Error: send HELO/EHLO first\r\n"u8;
    public static ReadOnlySpan<byte> NestedMail => "503 5.5.1 Error: nested MAIL command\r\n"u8;
    public static ReadOnlySpan<byte> NeedMail => "503 5.5.1 Error: need MAIL command\r\n"u8;
    public static ReadOnlySpan<byte> NeedRcpt => "503 5.5.1 Error: need RCPT command\r\n"u8;
    public static ReadOnlySpan<byte> RcptAfterBdat => "503 5.5.1 Error: RCPT after BDAT\r\n"u8;
    public static ReadOnlySpan<byte> MixedDataBdat => "503 5.5.1 Error: DATA and BDAT cannot be mixed in one transaction\r\n"u8;
    public static ReadOnlySpan<byte> NoValidRecipients => "554 5.5.1 Error: no valid recipients\r\n"u8;
    public static ReadOnlySpan<byte> TooManyRecipients => "452 4.5.3 Error: too many recipients\r\n"u8;
    public static ReadOnlySpan<byte> DeclaredSizeTooBig => "552 5.3.4 Message size exceeds fixed limit\r\n"u8;
    public static ReadOnlySpan<byte> MessageTooBig => "552 5.3.4 Error: message file too big\r\n"u8;
    public static ReadOnlySpan<byte> TextLineTooLong => "554 5.6.0 Error: message contains a line longer than the limit (RFC 5321 4.5.3.1.6)\r\n"u8;
    public static ReadOnlySpan<byte> TooManyHops => "554 5.4.0 Error: too many hops\r\n"u8;
    public static ReadOnlySpan<byte> QueueWriteError => "451 4.3.0 Error: queue file write error\r\n"u8;
    public static ReadOnlySpan<byte> DataBareCr => "550 5.5.2 Error: bare <CR> received\r\n"u8;
    public static ReadOnlySpan<byte> DataBareLf => "550 5.5.2 Error: bare <LF> received\r\n"u8;
    public static ReadOnlySpan<byte> DataNul => "550 5.6.0 Error: NUL character received\r\n"u8;
    public static ReadOnlySpan<byte> ProtocolSynchronization => "554 5.5.0 Error: SMTP protocol synchronization\r\n"u8;

    // STARTTLS (RFC 3207 §4) and AUTH (RFC 4954 §4, §6; Postfix's wording).
    public static ReadOnlySpan<byte> ReadyToStartTls => "220 2.0.0 Ready to start TLS\r\n"u8;
    public static ReadOnlySpan<byte> StartTlsSyntax => "501 5.5.4 Syntax: STARTTLS\r\n"u8;
    public static ReadOnlySpan<byte> TlsAlreadyActive => "554 5.5.1 Error: TLS already active\r\n"u8;
    public static ReadOnlySpan<byte> MailInProgress => "503 5.5.1 Error: MAIL transaction in progress\r\n"u8;
    public static ReadOnlySpan<byte> AuthSyntax => "501 5.5.4 Syntax: AUTH mechanism\r\n"u8;
    public static ReadOnlySpan<byte> AuthNotEnabled => "503 5.5.1 Error: authentication not enabled\r\n"u8;
    public static ReadOnlySpan<byte> EncryptionRequired => "538 5.7.11 Encryption required for requested authentication mechanism\r\n"u8;
    public static ReadOnlySpan<byte> AlreadyAuthenticated => "503 5.5.1 Error: already authenticated\r\n"u8;
    public static ReadOnlySpan<byte> UnknownMechanism => "504 5.5.4 Unrecognized authentication type\r\n"u8;
    public static ReadOnlySpan<byte> AuthAborted => "501 5.7.0 Authentication aborted\r\n"u8;
    public static ReadOnlySpan<byte> CannotDecode => "501 5.5.2 Cannot decode response\r\n"u8;
    public static ReadOnlySpan<byte> AuthFailed => "535 5.7.8 Error: authentication failed\r\n"u8;
    public static ReadOnlySpan<byte> AuthSucceeded => "235 2.7.0 Authentication successful\r\n"u8;
    public static ReadOnlySpan<byte> AuthRequired => "530 5.7.0 Authentication required\r\n"u8;
    public static ReadOnlySpan<byte> ContinueEmpty => "334 \r\n"u8;
    public static ReadOnlySpan<byte> LoginUsername => "334 VXNlcm5hbWU6\r\n"u8;
    public static ReadOnlySpan<byte> LoginPassword => "334 UGFzc3dvcmQ6\r\n"u8;

    // Replies that name the server: "<code> <hostname> <text>".
    public static ReadOnlySpan<byte> TimeoutText => " Error: timeout exceeded\r\n"u8;
    public static ReadOnlySpan<byte> TooManyErrorsText => " Error: too many errors\r\n"u8;
    public static ReadOnlySpan<byte> ShuttingDownText => " Service shutting down, closing transmission channel\r\n"u8;
    public static ReadOnlySpan<byte> TooManyAuthFailuresText => " Error: too many authentication failures\r\n"u8;
    public static ReadOnlySpan<byte> NotOwnedText => ": Sender address rejected: not owned by user "u8;
    public static ReadOnlySpan<byte> RelayDeniedText => ": Relay access denied\r\n"u8;
    public static ReadOnlySpan<byte> RelayNotConfiguredText => ": Recipient address rejected: relaying is not configured\r\n"u8;
    public static ReadOnlySpan<byte> UserUnknownText => ": Recipient address rejected: User unknown in local recipient table\r\n"u8;
    public static ReadOnlySpan<byte> AliasLoopText => ": Recipient address rejected: alias loop\r\n"u8;
    public static ReadOnlySpan<byte> AliasOnlyRemoteText => ": Recipient address rejected: alias forwards only to remote addresses and no relay is configured\r\n"u8;
    public static ReadOnlySpan<byte> AliasToNobodyText => ": Recipient address rejected: alias leads to no mailbox\r\n"u8;
    public static ReadOnlySpan<byte> UnsupportedOptionPrefix => "555 5.5.4 Unsupported option: "u8;
    public static ReadOnlySpan<byte> QueuedAsPrefix => "250 2.0.0 Ok: queued as "u8;
    public static ReadOnlySpan<byte> ChunkOkPrefix => "250 2.0.0 Ok: "u8;
    public static ReadOnlySpan<byte> ChunkOkSuffix => " octets received\r\n"u8;
    public static ReadOnlySpan<byte> Crlf => "\r\n"u8;
}
