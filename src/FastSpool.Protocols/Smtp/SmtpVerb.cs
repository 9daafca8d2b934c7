// RFC 5321 §4.1.1 (command verbs), RFC 3030 §2 (BDAT), RFC 3207 §4 (STARTTLS), RFC 4954 §4 (AUTH).
namespace FastSpool.Protocols.Smtp;

/// <summary>The SMTP command verbs the server recognises.</summary>
public enum SmtpVerb : byte
{
    Unknown,
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth,
}
