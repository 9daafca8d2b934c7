using System.Text;
using FastSpool.Posix;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace FastSpool.Server.Tests;

/// <summary>The data directory is private to the server's user (0700 directories, 0600 files), whatever the umask
/// it was started with and whatever an older start left behind: the queue's segments hold the text of delivered
/// messages until they are reclaimed whole.</summary>
public sealed class DataDirectoryModeTests
{
    private const UnixFileMode Loose = UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    [Fact]
    public async Task UnderUmask022EverythingTheServerMakesIsPrivateAndAnotherUserCannotReadTheQueue()
    {
        string data = Path.Combine(Path.GetTempPath(), "fastspool-modes-" + Guid.NewGuid().ToString("N"));
        string marker = "secret text " + Guid.NewGuid().ToString("N");
        try
        {
            int port = TestServer.FreePort();
            using (ServerProcess server = await ServerProcess.StartWithUmaskAsync("022", data, port))
            {
                using (var client = new SmtpClient())
                {
                    await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
                    await client.SendAsync(TestMessage.Create("private", marker + "\n", to: "postmaster@localhost"));
                    await client.DisconnectAsync(true);
                }
                await Mailbox.WaitForAsync(Path.Combine(data, "mail", "postmaster"), 1);

                // The delivered message's text is still in the segment: only its mode keeps it from other users.
                string segment = Path.Combine(data, "queue", "q.log.0");
                Assert.Contains(marker, File.ReadAllText(segment, Encoding.Latin1));
                Assert.Empty(NotPrivate(data));
                (int exitCode, string output) = Tool.Run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", segment);
                Assert.True(exitCode != 0 && output.Contains("Permission denied", StringComparison.Ordinal),
                    $"another user read the queue segment (exit {exitCode}): {output[..Math.Min(output.Length, 200)]}");

                await server.StopAsync();
            }
            Assert.Empty(NotPrivate(data)); // what the stop wrote too
        }
        finally
        {
            if (Directory.Exists(data))
                Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task ALooseDataDirectoryIsTightenedAtStartWithALogLineForEachChangeAndMailboxesAreLeftAlone()
    {
        TestServer first = await TestServer.StartAsync();
        first.KeepData = true;
        string data = first.Options.DataDirectory;
        string mail = first.MailDirectory;
        await first.DisposeAsync();

        // As a looser umask or an older release left it: every directory 0755, every file 0644. A mailbox keeps the
        // mode its owner gave it.
        File.WriteAllText(Path.Combine(data, "aliases"), "team: alice\n");
        string mailbox = Path.Combine(mail, "carol");
        File.WriteAllText(mailbox, "");
        File.SetUnixFileMode(mailbox, PrivateModes.File | Loose);
        var loosened = new List<(string Path, string Change)>();
        foreach (string path in Entries(data).Where(p => !p.StartsWith(mail, StringComparison.Ordinal)))
        {
            bool directory = Directory.Exists(path);
            File.SetUnixFileMode(path, (directory ? PrivateModes.Directory | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute : PrivateModes.File) | Loose);
            loosened.Add((path, directory ? "0755 tightened to 0700" : "0644 tightened to 0600"));
        }
        Assert.Contains(loosened, l => l.Path.EndsWith("q.log.0", StringComparison.Ordinal));
        Assert.Contains(loosened, l => l.Path.Contains("log-commits", StringComparison.Ordinal));

        await using TestServer second = await TestServer.StartAsync(dataDirectory: data);
        foreach ((string path, string change) in loosened)
            Assert.Contains($"{path}: mode {change}: the data directory is private to the server's user", second.Log.Lines);
        Assert.Equal([mailbox + " 644"], NotPrivate(data));
        Assert.Equal(PrivateModes.File | Loose, File.GetUnixFileMode(mailbox));
    }

    /// <summary>The data directory and everything in it, links not followed.</summary>
    private static IEnumerable<string> Entries(string root) =>
        [root, .. Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })];

    /// <summary>What in the data directory some other user may read, write or enter: "PATH MODE" (octal).</summary>
    private static List<string> NotPrivate(string root) =>
        [.. Entries(root)
            .Select(p => (Path: p, Found: Libc.LStat(p, out UnixFileStatus s) == 0, Status: s))
            .Where(e => e.Found && e.Status.Type != UnixFileType.SymbolicLink && (e.Status.Mode & PrivateModes.GroupAndOthers) != 0)
            .Select(e => $"{e.Path} {Convert.ToString((int)e.Status.Mode, 8)}")];
}
