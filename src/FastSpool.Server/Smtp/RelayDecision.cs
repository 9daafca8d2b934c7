namespace FastSpool.Server.Smtp;

/// <summary>What <see cref="RelayPolicy"/> says of one recipient.</summary>
internal enum RelayDecision : byte
{
    /// <summary>A local domain: the local part is looked up.</summary>
    Local,

    /// <summary>Another domain, from a client that may relay, with a smarthost to send it to.</summary>
    Relay,

    /// <summary>Another domain (or a sender-routed local part) from a client that may not relay:
    /// <c>454 4.7.1 &lt;rcpt&gt;: Relay access denied</c>.</summary>
    Denied,

    /// <summary>Another domain from a client that may relay, but no smarthost: <c>550 5.7.1</c>.</summary>
    NotConfigured,
}
