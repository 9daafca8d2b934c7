// RFC 5321 §4.1.1.2 (MAIL), §4.1.2 (Reverse-path); RFC 1870 (SIZE), RFC 6152 (BODY), RFC 6531 §3.4 (SMTPUTF8),
// RFC 3461 §4.3 (RET), §4.4 (ENVID).
namespace FastSpool.Protocols.Smtp;

/// <summary>A parsed <c>MAIL FROM:</c> argument. Ranges index the argument span that was parsed, so the value
/// holds no references and can live in session state next to a copy of that argument.</summary>
public readonly struct MailFromCommand
{
    /// <summary>Start of the mailbox (local-part[@domain]) without angle brackets or source route.</summary>
    public int PathStart { get; init; }

    /// <summary>Length of the mailbox; 0 for the null path <c>&lt;&gt;</c>.</summary>
    public int PathLength { get; init; }

    /// <summary>Index of the first domain octet (a <c>[</c> for an address literal), -1 when there is none.</summary>
    public int DomainStart { get; init; }

    /// <summary>The null reverse-path <c>&lt;&gt;</c> (bounces).</summary>
    public bool IsNullPath { get; init; }

    /// <summary>The path holds octets of 0x80 and above (valid UTF-8; only accepted with SMTPUTF8).</summary>
    public bool HasNonAscii { get; init; }

    /// <summary>The SIZE parameter; -1 when absent, long.MaxValue when its digits overflow.</summary>
    public long Size { get; init; }

    public BodyType Body { get; init; }

    public bool SmtpUtf8 { get; init; }

    /// <summary>The RET parameter (RFC 3461 §4.3).</summary>
    public DsnReturn Ret { get; init; }

    /// <summary>Start of the ENVID value (RFC 3461 §4.4), the xtext as sent; 0 and 0 when there is none (an empty
    /// ENVID is refused).</summary>
    public int EnvIdStart { get; init; }

    public int EnvIdLength { get; init; }

    /// <summary>An AUTH parameter (RFC 4954 §5) was given.</summary>
    public bool Auth { get; init; }

    /// <summary>For parameter errors, the text to quote in the reply; 0 and 0 otherwise.</summary>
    public int ErrorStart { get; init; }

    public int ErrorLength { get; init; }

    public ReadOnlySpan<byte> GetReversePath(ReadOnlySpan<byte> argument) => argument.Slice(PathStart, PathLength);

    public ReadOnlySpan<byte> GetLocalPart(ReadOnlySpan<byte> argument) =>
        DomainStart < 0 ? GetReversePath(argument) : argument[PathStart..(DomainStart - 1)];

    public ReadOnlySpan<byte> GetDomain(ReadOnlySpan<byte> argument) =>
        DomainStart < 0 ? default : argument[DomainStart..(PathStart + PathLength)];

    /// <summary>The ENVID value as sent (xtext, see <see cref="Xtext.Decode"/>); empty when there is none.</summary>
    public ReadOnlySpan<byte> GetEnvId(ReadOnlySpan<byte> argument) => argument.Slice(EnvIdStart, EnvIdLength);

    public ReadOnlySpan<byte> GetError(ReadOnlySpan<byte> argument) => argument.Slice(ErrorStart, ErrorLength);
}
