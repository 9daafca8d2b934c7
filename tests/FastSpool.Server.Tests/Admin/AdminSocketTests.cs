using System.Net;
using System.Net.Sockets;
using FastSpool.Posix;
using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests.Admin;

/// <summary>What a killed server leaves behind does not stop the next one, and the whole server answers on the socket.</summary>
public sealed class AdminSocketTests
{
    /// <summary>A socket file that nobody listens on, as a SIGKILL leaves it: bound under another name, given the
    /// socket's name by link(2), then closed.</summary>
    private static void LeaveStaleSocket(string path)
    {
        string bound = path + ".old";
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(bound));
            Assert.Equal(0, Libc.Link(bound, path));
        }
        Libc.Unlink(bound);
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var refused = Assert.Throws<SocketException>(() => probe.Connect(new UnixDomainSocketEndPoint(path)));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task AStaleSocketAndBindDirectoryAreReplaced()
    {
        ulong staleInode = 0;
        await using AdminHost host = await AdminHost.StartAsync(QueueSamples.Control(), directory =>
        {
            string path = Path.Combine(directory, "control.sock");
            LeaveStaleSocket(path);
            Assert.Equal(0, Libc.LStat(path, out UnixFileStatus stale));
            staleInode = stale.Inode;
            Directory.CreateDirectory(path + ".bind");
            File.WriteAllText(Path.Combine(path + ".bind", "s"), "left over");
        });
        using HttpResponseMessage response = await host.Client.GetAsync("/queue/counters");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, Libc.LStat(host.SocketPath, out UnixFileStatus status));
        Assert.NotEqual(staleInode, status.Inode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, status.Mode);
        Assert.False(Directory.Exists(host.SocketPath + ".bind"));
    }

    [Fact]
    public async Task ADirectoryWhereTheSocketBelongsStopsTheStartWithItsName()
    {
        string? path = null;
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => AdminHost.StartAsync(null, directory =>
        {
            path = Path.Combine(directory, "control.sock");
            Directory.CreateDirectory(path);
        }));
        Assert.Equal($"{path} is a directory; the control socket needs that name", e.Message);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    /// <summary>The submission socket may be put in a directory others can write to: a bind directory there that
    /// is not the server's own is not removed (recursively, as root) but named.</summary>
    [RootFact]
    public async Task ABindDirectoryOfAnotherUserIsNotRemoved()
    {
        string? path = null;
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => AdminHost.StartAsync(null, directory =>
        {
            path = Path.Combine(directory, "control.sock");
            Directory.CreateDirectory(path + ".bind");
            Tool.RunOrFail("chown", "65534", path + ".bind");
        }));
        Assert.Equal($"{path}.bind exists and belongs to uid 65534, not to the server; remove it, or choose another place for the control socket", e.Message);
        Assert.True(Directory.Exists(path + ".bind"));
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public async Task WithoutAQueueManagerEveryRequestIsUnavailable()
    {
        await using AdminHost host = await AdminHost.StartAsync(control: null);
        foreach (string path in (string[])["/queue", "/queue/counters", "/queue/" + QueueSamples.DeferredId])
        {
            using HttpResponseMessage response = await host.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("""{"error":"queue manager not available"}""", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task TheServerListensOnItsControlSocketUntilItStops()
    {
        TestServer server = await TestServer.StartAsync();
        string socketPath = server.Options.ControlSocketPath;
        try
        {
            Assert.Equal(Path.Combine(server.Options.DataDirectory, "control.sock"), socketPath);
            Assert.Equal(0, Libc.LStat(socketPath, out UnixFileStatus status));
            Assert.Equal(UnixFileType.Socket, status.Type);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, status.Mode);
            using HttpClient client = AdminHost.UnixHttpClient(socketPath);
            using HttpResponseMessage response = await client.GetAsync("/queue");
            // The running queue manager answers: an empty queue.
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("\"messages\":[]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            server.KeepData = true;
        }
        finally
        {
            await server.DisposeAsync();
        }
        Assert.Equal(Errno.ENOENT, Libc.LStat(socketPath, out _));
        Directory.Delete(server.Options.DataDirectory, recursive: true);
    }
}
