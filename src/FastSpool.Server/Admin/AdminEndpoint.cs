using FastSpool.Delivery.Control;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Admin;

/// <summary>The admin endpoint: HTTP + JSON on <c>DataDirectory/control.sock</c>, on the server's Kestrel, through
/// which <c>fastspool mailq</c>, <c>flush</c>, <c>hold</c>, <c>release</c>, <c>requeue</c>, <c>delete</c> and
/// <c>queue show</c> reach the queue manager. Only that socket speaks HTTP; the SMTP listeners keep their own
/// connection handler.
/// <code>
/// GET  /queue                 every message (QueueListing)
/// GET  /queue/counters        QueueCounters
/// GET  /queue/{id}            one message with its history and headers (MessageDetails), or 404
/// POST /queue/flush|hold|release|requeue|delete   ControlRequest -> ControlResult (unknown ids listed, not refused)
/// </code></summary>
internal static class AdminEndpoint
{
    /// <summary>Listens on <paramref name="socketPath"/>. <paramref name="control"/> null (no queue manager to ask)
    /// answers every request 503.</summary>
    public static WebApplicationBuilder AddFastSpoolAdmin(this WebApplicationBuilder builder, string socketPath, IQueueControl? control)
    {
        var socket = new AdminSocket(socketPath);
        builder.Services.AddRoutingCore();
        builder.Services.AddHostedService(_ => socket);
        builder.Services.AddSingleton(services =>
            new AdminHandlers(control, services.GetRequiredService<ILoggerFactory>().CreateLogger("admin")));
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.ListenUnixSocket(socket.BindPath, listen => listen.Protocols = HttpProtocols.Http1));
        return builder;
    }

    public static WebApplication MapFastSpoolAdmin(this WebApplication app)
    {
        AdminHandlers handlers = app.Services.GetRequiredService<AdminHandlers>();
        app.MapGet("/queue", handlers.Guarded(handlers.ListAsync));
        app.MapGet("/queue/counters", handlers.Guarded(handlers.CountersAsync));
        app.MapGet("/queue/{id}", handlers.Guarded(handlers.ShowAsync));
        foreach (ControlVerb verb in Enum.GetValues<ControlVerb>())
            app.MapPost("/queue/" + verb.ToString().ToLowerInvariant(), handlers.Guarded((context, queue) => handlers.ControlAsync(context, queue, verb)));
        app.MapFallback(new RequestDelegate(handlers.NoSuchRouteAsync));
        return app;
    }
}
