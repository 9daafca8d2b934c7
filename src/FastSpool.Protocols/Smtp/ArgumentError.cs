// RFC 5321 §4.1.1.2, §4.1.1.3, §4.1.2 (MAIL/RCPT syntax), §4.5.3.1 (size limits); RFC 1869 §6 (555 reply).
namespace FastSpool.Protocols.Smtp;

/// <summary>Why a MAIL or RCPT argument was refused. Each value maps to one reply.</summary>
public enum ArgumentError : byte
{
    None,

    /// <summary>The <c>FROM:</c>/<c>TO:</c> form is wrong: <c>501 5.5.4 Syntax: MAIL FROM:&lt;address&gt;</c>.</summary>
    Syntax,

    /// <summary>The path is malformed: <c>501 5.1.7</c> (sender) or <c>501 5.1.3</c> (recipient).</summary>
    BadAddress,

    /// <summary>Local part over 64, domain over 255 or path over 256 octets: <c>501 5.1.7</c> / <c>501 5.1.3</c>.</summary>
    PathTooLong,

    /// <summary>A parameter we do not implement: <c>555 5.5.4 Unsupported option: ...</c>, text at ErrorStart.</summary>
    UnsupportedParameter,

    /// <summary>A malformed, duplicated or invalid parameter: <c>501 5.5.4</c>.</summary>
    BadParameterValue,
}
