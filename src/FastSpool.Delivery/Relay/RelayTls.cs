namespace FastSpool.Delivery.Relay;

/// <summary><c>Relay:Tls</c>.</summary>
public enum RelayTls : byte
{
    /// <summary>STARTTLS (RFC 3207) is required: a smarthost that does not offer it gets nothing, not even the sender.</summary>
    StartTls,

    /// <summary>TLS from the first octet (RFC 8314, port 465).</summary>
    Implicit,

    /// <summary>Everything in clear, the password included: only where the configuration says so.</summary>
    None,
}
