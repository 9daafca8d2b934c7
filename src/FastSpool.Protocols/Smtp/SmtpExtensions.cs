namespace FastSpool.Protocols.Smtp;

/// <summary>The EHLO keywords a client acts on (RFC 5321 §4.1.1.1 and the RFC of each).</summary>
[Flags]
public enum SmtpExtensions
{
    None = 0,

    /// <summary>RFC 2920.</summary>
    Pipelining = 1,

    /// <summary>RFC 3030 (BDAT).</summary>
    Chunking = 2,

    /// <summary>RFC 1870; the limit is <see cref="EhloReply.MaxSize"/>.</summary>
    Size = 4,

    /// <summary>RFC 6152.</summary>
    EightBitMime = 8,

    /// <summary>RFC 6531.</summary>
    SmtpUtf8 = 16,

    /// <summary>RFC 3461.</summary>
    Dsn = 32,

    /// <summary>RFC 3207.</summary>
    StartTls = 64,

    /// <summary>RFC 4954 with the PLAIN mechanism (RFC 4616).</summary>
    AuthPlain = 128,

    /// <summary>RFC 4954 with the LOGIN mechanism (draft-murchison-sasl-login).</summary>
    AuthLogin = 256,

    /// <summary>RFC 2034.</summary>
    EnhancedStatusCodes = 512,
}
