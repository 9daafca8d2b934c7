namespace FastSpool.Protocols.Sasl;

/// <summary>The three fields of a PLAIN message (RFC 4616 §2), as slices of the caller's decode buffer: valid only
/// while that buffer is.</summary>
public readonly ref struct SaslPlainCredentials(ReadOnlySpan<byte> authorizationId, ReadOnlySpan<byte> authenticationId, ReadOnlySpan<byte> password)
{
    /// <summary>authzid: the identity to act as; empty when the client asks for its own.</summary>
    public ReadOnlySpan<byte> AuthorizationId { get; } = authorizationId;

    /// <summary>authcid: the user name whose password follows.</summary>
    public ReadOnlySpan<byte> AuthenticationId { get; } = authenticationId;

    /// <summary>passwd, UTF-8.</summary>
    public ReadOnlySpan<byte> Password { get; } = password;
}
