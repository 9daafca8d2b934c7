using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FastSpool.Server.Metrics;

/// <summary>The metrics endpoint: <c>GET /metrics</c> on the TCP endpoints of <c>Metrics:Listen</c>, on the server's
/// Kestrel beside the SMTP listeners and the control socket. Its connections are marked when Kestrel accepts them, and
/// the request pipeline sends every request on a marked connection to this endpoint alone, ahead of routing: the
/// admin routes are never reachable from the metrics port, whatever their paths. No authentication: it is meant for
/// loopback or a trusted network.</summary>
internal static class MetricsEndpoint
{
    private const string Path = "/metrics";

    // Set on the connections of the metrics listeners (IConnectionItemsFeature); the key is this object itself.
    private static readonly object Marker = new();

    public static void ListenForMetrics(this KestrelServerOptions kestrel, IEnumerable<IPEndPoint> endpoints)
    {
        foreach (IPEndPoint endpoint in endpoints)
        {
            kestrel.Listen(endpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.Use(next => connection =>
                {
                    connection.Items[Marker] = Marker;
                    return next(connection);
                });
            });
        }
    }

    /// <summary>Must come before routing, so that the requests of the metrics port are answered here and only here.</summary>
    public static WebApplication UseFastSpoolMetrics(this WebApplication app, MetricsCollector collector)
    {
        app.MapWhen(IsMetricsConnection, branch => branch.Run(context => ServeAsync(context, collector)));
        return app;
    }

    private static bool IsMetricsConnection(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(Marker) == true;

    private static Task ServeAsync(HttpContext context, MetricsCollector collector)
    {
        HttpResponse response = context.Response;
        if (!string.Equals(context.Request.Path.Value, Path, StringComparison.Ordinal))
            return PlainAsync(response, StatusCodes.Status404NotFound, "not found: the metrics are at GET /metrics\n");
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            response.Headers.Allow = "GET, HEAD";
            return PlainAsync(response, StatusCodes.Status405MethodNotAllowed, "method not allowed: GET /metrics\n");
        }
        var writer = new OpenMetricsWriter(OpenMetricsWriter.Accepts(context.Request.Headers.Accept.ToString()));
        collector.WriteTo(writer);
        byte[] body = Encoding.UTF8.GetBytes(writer.ToString());
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = writer.ContentType;
        response.ContentLength = body.Length;
        response.Headers.CacheControl = "no-store";
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body).AsTask();
    }

    private static Task PlainAsync(HttpResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(text);
    }
}
