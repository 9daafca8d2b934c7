namespace FastSpool.Protocols.Sasl;

/// <summary>What <see cref="ScramSha256Exchange"/> made of a client's message.</summary>
public enum ScramStatus
{
    /// <summary>Well formed (and, for the final message, the proof is right).</summary>
    Ok,

    /// <summary>Not a SCRAM message of the expected kind (RFC 5802 §7), or the nonce or channel binding does not
    /// match the first message.</summary>
    Malformed,

    /// <summary>The client asked for channel binding (<c>p=</c>) in an exchange of the mechanism without -PLUS.</summary>
    ChannelBindingNotSupported,

    /// <summary>The client asked for a channel binding type other than tls-server-end-point.</summary>
    UnsupportedChannelBindingType,

    /// <summary>The client said it could bind but thought the server could not (<c>y</c>), where the server offers
    /// SCRAM-SHA-256-PLUS: something between them took the -PLUS mechanism out (RFC 5802 §6).</summary>
    Downgraded,

    /// <summary>The channel binding data in the final message is not this connection's: the client's TLS session
    /// ends elsewhere (a man in the middle), or the client hashed another certificate.</summary>
    ChannelBindingMismatch,

    /// <summary>Well formed, but the proof is wrong: the password is not the user's.</summary>
    WrongProof,
}
