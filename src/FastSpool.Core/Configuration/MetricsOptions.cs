namespace FastSpool.Configuration;

/// <summary>Configuration section <c>Metrics</c>: the OpenMetrics (Prometheus) endpoint.</summary>
public sealed class MetricsOptions
{
    /// <summary>Endpoints that serve <c>GET /metrics</c>, in the syntax of <c>Smtp:Listen</c>; none (the default)
    /// turns the endpoint off. It has no authentication: bind it to loopback or a trusted network.</summary>
    public List<string>? Listen { get; set; }
}
