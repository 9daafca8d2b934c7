using System.Net.Sockets;
using FastSpool.Delivery.Control;
using FastSpool.Server.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Tests.Support;

/// <summary>Kestrel with the admin endpoint alone, wired as the server wires it, in its own data directory, with
/// a queue manager stand-in. <see cref="Client"/> is a plain HttpClient over the socket (not the CLI's client), so
/// the endpoint tests read the JSON independently of the CLI.</summary>
internal sealed class AdminHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ILoggerFactory _loggers;
    private bool _stopped;

    private AdminHost(WebApplication app, ILoggerFactory loggers, string dataDirectory)
    {
        _app = app;
        _loggers = loggers;
        DataDirectory = dataDirectory;
        Client = UnixHttpClient(SocketPath);
    }

    public string DataDirectory { get; }

    public string SocketPath => Path.Combine(DataDirectory, "control.sock");

    public HttpClient Client { get; }

    /// <param name="beforeStart">Runs on the data directory before the endpoint binds (to leave stale files).</param>
    public static async Task<AdminHost> StartAsync(IQueueControl? control, Action<string>? beforeStart = null)
    {
        string dataDirectory = Path.Combine(Path.GetTempPath(), "fastspool-admin-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dataDirectory);
        beforeStart?.Invoke(dataDirectory);
        ILoggerFactory loggers = FastSpoolServer.CreateLoggerFactory(LogLevel.Warning);
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggers);
        builder.WebHost.UseKestrelCore();
        builder.AddFastSpoolAdmin(Path.Combine(dataDirectory, "control.sock"), control);
        WebApplication app = builder.Build();
        app.MapFastSpoolAdmin();
        await app.StartAsync();
        return new AdminHost(app, loggers, dataDirectory);
    }

    public static HttpClient UnixHttpClient(string socketPath) =>
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
            Timeout = TimeSpan.FromSeconds(30),
        };

    public async Task StopAsync()
    {
        if (_stopped)
            return;
        _stopped = true;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _loggers.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await StopAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
