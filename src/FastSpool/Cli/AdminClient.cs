using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using FastSpool.Delivery.Control;
using FastSpool.Server.Admin;

namespace FastSpool.Cli;

/// <summary>The queue verbs' way to the running server: HTTP on its control socket (see AdminEndpoint). Every
/// failure becomes an <see cref="AdminException"/> with one line for the user and a sysexits code.</summary>
internal sealed class AdminClient : IDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http;

    public AdminClient(string socketPath, TimeSpan? timeout = null)
    {
        SocketPath = socketPath;
        _http = CreateHttpClient(socketPath, timeout ?? DefaultTimeout);
    }

    public string SocketPath { get; }

    private static AdminJsonContext Json => AdminJsonContext.Default;

    /// <summary>An HttpClient whose every connection goes to the Unix socket at <paramref name="socketPath"/>.</summary>
    public static HttpClient CreateHttpClient(string socketPath, TimeSpan timeout) =>
        new(new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        {
            BaseAddress = new Uri("http://localhost/"),
            Timeout = timeout,
        };

    public Task<QueueListing> ListAsync(CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, "queue"), Json.QueueListing, cancellationToken);

    public Task<MessageDetails> ShowAsync(string id, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, "queue/" + id), Json.MessageDetails, cancellationToken);

    public Task<QueueCounters> CountersAsync(CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, "queue/counters"), Json.QueueCounters, cancellationToken);

    /// <param name="verb">flush, hold, release, requeue or delete.</param>
    public Task<ControlResult> ControlAsync(string verb, ControlRequest request, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, "queue/" + verb) { Content = JsonContent.Create(request, Json.ControlRequest) },
            Json.ControlResult, cancellationToken);

    private async Task<T> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> answer, CancellationToken cancellationToken)
    {
        using (request)
        {
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException e) when (e.InnerException is SocketException socket)
            {
                throw NotReached(socket, e);
            }
            catch (HttpRequestException e)
            {
                throw new AdminException(ExitCode.Unavailable, $"lost the connection to the server on {SocketPath}: {e.Message}", e);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new AdminException(ExitCode.TempFail, $"the server did not answer within {_http.Timeout.TotalSeconds:0} s on {SocketPath}", e);
            }
            using (response)
            {
                try
                {
                    if (response.IsSuccessStatusCode)
                        return await response.Content.ReadFromJsonAsync(answer, cancellationToken) ?? throw new JsonException("null");
                    AdminError? error = await response.Content.ReadFromJsonAsync(Json.AdminError, cancellationToken);
                    throw new AdminException(ExitCodeOf(response.StatusCode),
                        error?.Error ?? $"the server answered {(int)response.StatusCode} {response.ReasonPhrase}");
                }
                catch (JsonException e)
                {
                    throw new AdminException(ExitCode.Software, $"the server's answer ({(int)response.StatusCode}) is not understood: {e.Message}", e);
                }
            }
        }
    }

    private AdminException NotReached(SocketException socket, Exception e) => socket.SocketErrorCode switch
    {
        // ENOENT: no socket file, so no server since the last clean stop.
        SocketError.AddressNotAvailable => new AdminException(ExitCode.Unavailable, $"the server is not running (no control socket at {SocketPath})", e),
        // ECONNREFUSED: a socket file that nobody listens on, left by a killed server.
        SocketError.ConnectionRefused => new AdminException(ExitCode.Unavailable, $"the server is not running (nothing answers on {SocketPath})", e),
        SocketError.AccessDenied => new AdminException(ExitCode.NoPermission, $"permission denied on {SocketPath} (the queue is for root and the server's user)", e),
        _ => new AdminException(ExitCode.Unavailable, $"cannot reach the server on {SocketPath}: {socket.Message}", e),
    };

    private static int ExitCodeOf(HttpStatusCode status) => status switch
    {
        HttpStatusCode.NotFound => ExitCode.NoInput,
        HttpStatusCode.BadRequest => ExitCode.Usage,
        HttpStatusCode.ServiceUnavailable => ExitCode.Unavailable,
        _ => ExitCode.Software,
    };

    public void Dispose() => _http.Dispose();
}
