using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using FastSpool.Delivery.Control;
using FastSpool.Queue;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Admin;

/// <summary>The admin endpoint's requests: check what the client sent (ids are 1-16 hex digits before they reach the
/// queue manager), call <see cref="IQueueControl"/>, answer JSON. Errors answer <see cref="AdminError"/> with
/// 400 (bad request), 404 (no such message), 503 (no queue manager) or 500 (a bug, logged).</summary>
internal sealed class AdminHandlers(IQueueControl? control, ILogger log)
{
    // A request names at most every message in the queue: 1 MiB is tens of thousands of ids.
    private const long MaxRequestBody = 1 << 20;

    private static AdminJsonContext Json => AdminJsonContext.Default;

    /// <summary>Runs <paramref name="handler"/> when there is a queue manager to ask; turns a failure of the queue
    /// manager into a 500 answer and a log line instead of a dropped connection.</summary>
    public RequestDelegate Guarded(Func<HttpContext, IQueueControl, Task> handler) => async context =>
    {
        if (control is null)
        {
            await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, new AdminError("queue manager not available"), Json.AdminError);
            return;
        }
        try
        {
            await handler(context, control);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception e)
        {
            log.LogError(e, "admin: {Method} {Path} failed", context.Request.Method, context.Request.Path.Value);
            if (!context.Response.HasStarted)
                await WriteAsync(context, StatusCodes.Status500InternalServerError, new AdminError("internal error: " + e.Message), Json.AdminError);
        }
    };

    public Task ListAsync(HttpContext context, IQueueControl queue) =>
        WriteAsync(context, StatusCodes.Status200OK, new QueueListing(queue.List()), Json.QueueListing);

    public Task CountersAsync(HttpContext context, IQueueControl queue) =>
        WriteAsync(context, StatusCodes.Status200OK, queue.Counters(), Json.QueueCounters);

    public async Task ShowAsync(HttpContext context, IQueueControl queue)
    {
        string text = context.Request.RouteValues["id"] as string ?? "";
        if (!TryNormalizeId(text, out string id))
        {
            await BadRequestAsync(context, NotAnId(text));
            return;
        }
        QueuedMessageView? message = queue.Find(id);
        string? headers = message is null ? null : await queue.ReadHeadersAsync(id, context.RequestAborted);
        if (message is null || headers is null)
        {
            await WriteAsync(context, StatusCodes.Status404NotFound, new AdminError($"no message {id} in the queue", id), Json.AdminError);
            return;
        }
        await WriteAsync(context, StatusCodes.Status200OK, new MessageDetails(message, headers), Json.MessageDetails);
    }

    public async Task ControlAsync(HttpContext context, IQueueControl queue, ControlVerb verb)
    {
        (ControlRequest? request, int status, string? error) = await ReadRequestAsync(context);
        if (request is null)
        {
            await WriteAsync(context, status, new AdminError(error!), Json.AdminError);
            return;
        }
        var ids = new List<string>();
        error = Select(request, verb, ids);
        if (error is not null)
        {
            await BadRequestAsync(context, error);
            return;
        }
        string who = Who(context);
        ControlResult result = await (verb switch
        {
            ControlVerb.Flush => queue.FlushAsync(ids, who), // no ids: every message
            ControlVerb.Hold => Each(request.All ? Everything(queue) : ids, who, queue.HoldAsync),
            ControlVerb.Release => Each(request.All ? Everything(queue) : ids, who, queue.ReleaseAsync),
            ControlVerb.Requeue => Each(request.All ? Everything(queue) : ids, who, queue.RequeueAsync),
            _ when request.All => queue.DeleteAllAsync(DeleteScope.All, request.Bounce, who),
            _ when request.Deferred => queue.DeleteAllAsync(DeleteScope.Deferred, request.Bounce, who),
            _ => queue.DeleteAsync(ids, request.Bounce, who),
        });
        await WriteAsync(context, StatusCodes.Status200OK, result, Json.ControlResult);
    }

    public Task NoSuchRouteAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status404NotFound, new AdminError($"no such request: {context.Request.Method} {context.Request.Path}"), Json.AdminError);

    /// <summary>Checks the request against the verb and fills <paramref name="ids"/> with the named ids in their
    /// canonical form (13 upper-case hex digits), each once; returns what is wrong, or null.</summary>
    internal static string? Select(ControlRequest request, ControlVerb verb, List<string> ids)
    {
        if (verb != ControlVerb.Delete && (request.Bounce || request.Deferred))
            return $"{(request.Bounce ? "bounce" : "deferred")} applies to delete only";
        if (request.All && request.Deferred)
            return "give all or deferred, not both";
        bool everything = request.All || request.Deferred;
        if (everything && request.Ids is { Count: > 0 })
            return "give ids or all, not both";
        foreach (string? text in request.Ids ?? [])
        {
            if (text is null || !TryNormalizeId(text, out string id))
                return NotAnId(text);
            if (!ids.Contains(id))
                ids.Add(id);
        }
        if (ids.Count == 0 && !everything && verb != ControlVerb.Flush)
            return "no ids: give \"ids\", or \"all\": true for every message";
        return null;
    }

    internal static bool TryNormalizeId(string text, out string id)
    {
        bool valid = QueueId.TryParse(text, out QueueId parsed);
        id = valid ? parsed.ToString() : "";
        return valid;
    }

    private static string NotAnId(string? text) => $"'{text}' is not a queue id (1-16 hex digits)";

    private static List<string> Everything(IQueueControl queue)
    {
        IReadOnlyList<QueuedMessageView> messages = queue.List();
        var ids = new List<string>(messages.Count);
        foreach (QueuedMessageView message in messages)
            ids.Add(message.Id);
        return ids;
    }

    private static ValueTask<ControlResult> Each(List<string> ids, string who, Func<IReadOnlyList<string>, string, ValueTask<ControlResult>> verb) =>
        ids.Count == 0 ? ValueTask.FromResult(new ControlResult([], [])) : verb(ids, who);

    /// <summary>The asker for the queue manager's log: the uid the kernel recorded for the connection.</summary>
    private static string Who(HttpContext context) =>
        PeerCredentials.TryRead(context.Features.Get<IConnectionSocketFeature>()?.Socket, out PeerCredentials peer)
            ? peer.Describe()
            : "unknown";

    /// <summary>An empty body is an empty request (so <c>POST /queue/flush</c> alone flushes everything).</summary>
    private static async Task<(ControlRequest? Request, int Status, string? Error)> ReadRequestAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = MaxRequestBody;
        using var body = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        }
        catch (BadHttpRequestException e)
        {
            return (null, e.StatusCode, "request body: " + e.Message);
        }
        if (body.Length == 0)
            return (new ControlRequest(), 0, null);
        try
        {
            ControlRequest? request = JsonSerializer.Deserialize(body.GetBuffer().AsSpan(0, (int)body.Length), Json.ControlRequest);
            return request is null
                ? (null, StatusCodes.Status400BadRequest, "the request body must be a JSON object")
                : (request, 0, null);
        }
        catch (JsonException e)
        {
            return (null, StatusCodes.Status400BadRequest, "bad JSON in the request body: " + e.Message);
        }
    }

    private static Task BadRequestAsync(HttpContext context, string error) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, new AdminError(error), Json.AdminError);

    private static Task WriteAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(value, type, contentType: null, context.RequestAborted);
    }
}
