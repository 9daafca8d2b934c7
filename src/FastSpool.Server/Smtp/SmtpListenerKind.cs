namespace FastSpool.Server.Smtp;

/// <summary>Which list of endpoints a listener came from, which decides what its sessions require.</summary>
internal enum SmtpListenerKind : byte
{
    /// <summary><c>Smtp:Listen</c> (port 25): mail for local users from anyone; STARTTLS and AUTH offered.</summary>
    Smtp,

    /// <summary><c>Smtp:Submission</c> (port 587, RFC 6409): AUTH before MAIL.</summary>
    Submission,

    /// <summary><c>Smtp:SubmissionTls</c> (port 465, RFC 8314): TLS from the first octet, then as submission.</summary>
    SubmissionTls,
}
