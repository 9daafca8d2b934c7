namespace FastSpool.Protocols.Sasl;

/// <summary>What <see cref="SaslPlain.TryDecode"/> made of a client's response.</summary>
public enum SaslPlainStatus
{
    /// <summary>Three fields, an authentication identity and a password present.</summary>
    Decoded,

    /// <summary>Not base64 (RFC 4648 §4, padded), or longer than the fields allow.</summary>
    NotBase64,

    /// <summary>Base64, but not <c>[authzid] NUL authcid NUL passwd</c> with non-empty authcid and passwd of at most
    /// 255 octets each.</summary>
    Malformed,
}
