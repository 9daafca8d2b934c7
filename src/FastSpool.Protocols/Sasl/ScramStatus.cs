namespace FastSpool.Protocols.Sasl;

/// <summary>What <see cref="ScramSha256Exchange"/> made of a client's message.</summary>
public enum ScramStatus
{
    /// <summary>Well formed (and, for the final message, the proof is right).</summary>
    Ok,

    /// <summary>Not a SCRAM message of the expected kind (RFC 5802 §7), or the nonce or channel binding does not
    /// match the first message.</summary>
    Malformed,

    /// <summary>The client asked for channel binding (<c>p=</c>), which is not offered (no -PLUS mechanism).</summary>
    ChannelBindingNotSupported,

    /// <summary>Well formed, but the proof is wrong: the password is not the user's.</summary>
    WrongProof,
}
