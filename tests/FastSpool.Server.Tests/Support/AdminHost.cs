using FastSpool.Delivery.Control;
using FastSpool.Server.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Tests.Support;

/// <summary>Kestrel with the admin endpoint alone, wired as the server wires it, in its own data directory, with
/// a queue manager stand-in. <see cref="Client"/> is a plain HttpClient over the socket, so that the endpoint tests
/// read the JSON as documents, independently of the CLI's types.</summary>
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

    /// <summary>A plain HttpClient over the socket (the CLI's connection plumbing; its JSON types are not used).</summary>
    public static HttpClient UnixHttpClient(string socketPath) => FastSpool.Cli.AdminClient.CreateHttpClient(socketPath, TimeSpan.FromSeconds(30));

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
