// RFC 5321 §4.1.1.3 (RCPT), §4.1.2 (Forward-path), §4.5.1 (bare postmaster); RFC 6531 §3.3 (UTF-8 addresses);
// RFC 3461 §4.1 (NOTIFY), §4.2 (ORCPT).
namespace FastSpool.Protocols.Smtp;

/// <summary>A parsed <c>RCPT TO:</c> argument. Ranges index the argument span that was parsed, so the value
/// holds no references and can live in session state next to a copy of that argument.</summary>
public readonly struct RcptToCommand
{
    /// <summary>Start of the mailbox (local-part[@domain]) without angle brackets or source route.</summary>
    public int PathStart { get; init; }

    public int PathLength { get; init; }

    /// <summary>Index of the first domain octet (a <c>[</c> for an address literal), -1 when there is none.</summary>
    public int DomainStart { get; init; }

    /// <summary><c>&lt;postmaster&gt;</c> without a domain, any case.</summary>
    public bool IsBarePostmaster { get; init; }

    /// <summary>The path holds octets of 0x80 and above (valid UTF-8; only accepted when allowed).</summary>
    public bool HasNonAscii { get; init; }

    /// <summary>The NOTIFY parameter (RFC 3461 §4.1); <see cref="DsnNotify.None"/> when it was not given.</summary>
    public DsnNotify Notify { get; init; }

    /// <summary>Start of the ORCPT value (RFC 3461 §4.2) <c>addr-type ";" xtext</c> as sent; 0 and 0 when there is
    /// none.</summary>
    public int OrcptStart { get; init; }

    public int OrcptLength { get; init; }

    /// <summary>For parameter errors, the text to quote in the reply; 0 and 0 otherwise.</summary>
    public int ErrorStart { get; init; }

    public int ErrorLength { get; init; }

    public ReadOnlySpan<byte> GetForwardPath(ReadOnlySpan<byte> argument) => argument.Slice(PathStart, PathLength);

    public ReadOnlySpan<byte> GetLocalPart(ReadOnlySpan<byte> argument) =>
        DomainStart < 0 ? GetForwardPath(argument) : argument[PathStart..(DomainStart - 1)];

    public ReadOnlySpan<byte> GetDomain(ReadOnlySpan<byte> argument) =>
        DomainStart < 0 ? default : argument[DomainStart..(PathStart + PathLength)];

    /// <summary>The ORCPT value as sent, e.g. <c>rfc822;user+2Btag@example.org</c> (the address is xtext, see
    /// <see cref="Xtext.Decode"/>); empty when there is none.</summary>
    public ReadOnlySpan<byte> GetOriginalRecipient(ReadOnlySpan<byte> argument) => argument.Slice(OrcptStart, OrcptLength);

    public ReadOnlySpan<byte> GetError(ReadOnlySpan<byte> argument) => argument.Slice(ErrorStart, ErrorLength);
}
