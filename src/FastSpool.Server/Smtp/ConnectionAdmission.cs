namespace FastSpool.Server.Smtp;

/// <summary>What <see cref="ConnectionLimiter.TryAdmit"/> decided for a new connection.</summary>
internal enum ConnectionAdmission : byte
{
    Admitted,

    /// <summary>The server has <c>Smtp:MaxConnections</c> connections open.</summary>
    ServerFull,

    /// <summary>The client has <c>Smtp:MaxConnectionsPerClient</c> connections open.</summary>
    TooManyFromClient,

    /// <summary>The client has opened <c>Smtp:ConnectionRatePerClient</c> connections in the current minute.</summary>
    TooFastFromClient,
}
