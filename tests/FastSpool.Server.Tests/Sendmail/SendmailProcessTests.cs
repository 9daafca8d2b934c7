using System.Diagnostics;
using FastSpool.Queue.Pickup;
using FastSpool.Server.Tests.Support;
using FastSpool.Tests;
using FastSpool.Users;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace FastSpool.Server.Tests.Sendmail;

/// <summary>The real programs called through links named sendmail, mailq and newaliases, as programs call
/// /usr/sbin/sendmail: the native client (fastspool-sendmail, as installed) and, in the first test, the full fastspool
/// command too; from another directory with no --config (the configuration found through FASTSPOOL_CONFIG or
/// ./fastspool.json), by mutt and bsd-mailx configured with sendmail=, by Python's subprocess with -t -i, and -bs
/// driven by Python's smtplib over a pipe; as a user who is not root; killed in the middle of writing.</summary>
public sealed class SendmailProcessTests : IAsyncLifetime
{
    private static readonly UnixFileMode Mode0755 = (UnixFileMode)0b111_101_101;

    private readonly string _root = Directory.CreateTempSubdirectory("fastspool-smp-").FullName;
    private TestServer? _server;

    public async Task InitializeAsync()
    {
        // Reachable by other users (the temporary directory is 0700): the configuration and the submission socket are
        // for everyone; the data directory inside stays private.
        File.SetUnixFileMode(_root, Mode0755);
        Link(Bin, await NativeBuild.SendmailAsync());
        Link(FullCommandBin, await NativeBuild.FastSpoolAsync());
        File.WriteAllText(ConfigFile, $$"""
            { "DataDirectory": "{{Data}}", "LocalDomains": [ "localhost", "example.test" ],
              "Smtp": { "Hostname": "mx.example.test" }, "Users": { "System": false } }
            """);
        File.SetUnixFileMode(ConfigFile, (UnixFileMode)0b110_100_100);
    }

    private static void Link(string directory, string program)
    {
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, Mode0755);
        foreach (string name in (string[])["sendmail", "mailq", "newaliases"])
            File.CreateSymbolicLink(Path.Combine(directory, name), program);
    }

    /// <summary>Links to the native client.</summary>
    private string Bin => Path.Combine(_root, "bin");

    /// <summary>Links to the full fastspool command, which acts as sendmail as well.</summary>
    private string FullCommandBin => Path.Combine(_root, "bin-full");

    private string Sendmail => Path.Combine(Bin, "sendmail");

    private string Data => Path.Combine(_root, "data");

    private string ConfigFile => Path.Combine(_root, "fastspool.json");

    private string SharedMaildropPath => Data + ".maildrop";

    private const string Nobody = "65534";

    /// <summary>setpriv's words that run the rest as nobody, with this test's configuration.</summary>
    private string[] AsNobody => ["--reuid=" + Nobody, "--regid=" + Nobody, "--clear-groups", "env", "FASTSPOOL_CONFIG=" + ConfigFile, "HOME=/tmp"];

    private TestServer Server => _server!;

    private Dictionary<string, string?> Environment => new() { ["FASTSPOOL_CONFIG"] = ConfigFile, ["HOME"] = _root };

    public async Task DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private async Task StartAsync() =>
        _server = await TestServer.StartAsync(o => o.LocalDomains = ["localhost", "example.test"], Data, logLevel: LogLevel.Information);

    private Task<CliResult> RunAsync(string file, string? input, params string[] args) =>
        ChildProcess.RunAsync(file, args, input, Environment, workingDirectory: "/");

    private static void Succeeded(CliResult result) => Assert.True(result.Code == 0, result.ToString());

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CalledThroughLinksItActsAsSendmailMailqAndNewaliasesWithTheConfigurationFoundWithoutConfig(bool fullCommand)
    {
        string bin = fullCommand ? FullCommandBin : Bin;
        string sendmail = Path.Combine(bin, "sendmail");
        await StartAsync();
        Succeeded(await RunAsync(sendmail, "Subject: linked\n\nx\n", "alice@localhost"));
        // No variable: ./fastspool.json of the working directory.
        Succeeded(await ChildProcess.RunAsync(sendmail, ["alice@localhost"], "Subject: cwd\n\ny\n", new Dictionary<string, string?> { ["FASTSPOOL_CONFIG"] = null }, _root));
        Assert.Equal(["cwd", "linked"], (await Server.DeliveredAsync("alice", 2)).Select(m => m.Message.Subject).Order());

        // mailq: the native client runs the fastspool command beside it.
        CliResult mailq = await RunAsync(Path.Combine(bin, "mailq"), null);
        Succeeded(mailq);
        Assert.Equal("Mail queue is empty\n", mailq.Out);

        // newaliases: see NewaliasesHasTheRunningServerReadTheAliases (this server is the test run's own process, which
        // a SIGHUP would stop).
    }

    [Fact]
    public async Task PythonSubprocessWithTIAndSmtplibOverAPipeToBs()
    {
        await StartAsync();
        const string Script = """
            import smtplib, subprocess, sys
            sendmail = sys.argv[1]
            subprocess.run([sendmail, "-t", "-i"], input=b"To: alice@localhost\nSubject: from python\n\nbody\n.\nend\n", check=True)

            class Pipe:
                def __init__(self, process): self.process = process
                def sendall(self, data): self.process.stdin.write(data); self.process.stdin.flush()
                def makefile(self, mode): return self.process.stdout
                def close(self): self.process.stdin.close()

            class PipeSMTP(smtplib.SMTP):
                def _get_socket(self, host, port, timeout):
                    self.process = subprocess.Popen([sendmail, "-bs"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                    return Pipe(self.process)

            smtp = PipeSMTP()
            code, greeting = smtp.connect("localhost")
            assert code == 220, greeting
            smtp.ehlo("pipe.example")
            refused = smtp.sendmail("me@localhost", ["alice@localhost", "bob@localhost"], b"Subject: over -bs\r\n\r\nhello\r\n")
            assert refused == {}, refused
            smtp.quit()
            sys.exit(smtp.process.wait())
            """;
        string script = Path.Combine(_root, "send.py");
        File.WriteAllText(script, Script);
        Succeeded(await RunAsync("python3", null, script, Sendmail));

        List<(string Marker, MimeMessage Message)> alice = await Server.DeliveredAsync("alice", 2);
        MimeMessage python = alice.Single(m => m.Message.Subject == "from python").Message;
        Assert.Equal("body\n.\nend\n", python.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n') + "\n");
        MimeMessage bs = alice.Single(m => m.Message.Subject == "over -bs").Message;
        Assert.Contains("(FastSpool sendmail, from userid 0)", bs.Headers["Received"]);
        Assert.Equal("over -bs", Assert.Single(await Server.DeliveredAsync("bob", 1)).Message.Subject);
    }

    [Fact]
    public async Task MuttAndBsdMailxSendThroughIt()
    {
        Assert.True(File.Exists("/usr/bin/mutt"), "mutt is needed (.ci/run installs it)");
        Assert.True(File.Exists("/usr/bin/bsd-mailx"), "bsd-mailx is needed (.ci/run installs it)");
        await StartAsync();
        Succeeded(await RunAsync("/usr/bin/mutt", "written in mutt\n",
            "-n", "-F", "/dev/null", "-e", $"set sendmail=\"{Sendmail}\"", "-e", "set from=me@example.test", "-s", "from mutt", "--", "alice@localhost"));
        string mailrc = Path.Combine(_root, "mailrc");
        File.WriteAllText(mailrc, $"set sendmail={Sendmail}\n");
        Dictionary<string, string?> environment = Environment;
        environment["MAILRC"] = mailrc;
        Succeeded(await ChildProcess.RunAsync("/usr/bin/bsd-mailx", ["-s", "from mailx", "alice@localhost"], "written in mailx\n", environment, "/"));

        List<(string Marker, MimeMessage Message)> alice = await Server.DeliveredAsync("alice", 2);
        MimeMessage mutt = alice.Single(m => m.Message.Subject == "from mutt").Message;
        Assert.Equal("me@example.test", mutt.From.Mailboxes.Single().Address);
        Assert.StartsWith("written in mutt", mutt.TextBody);
        MimeMessage mailx = alice.Single(m => m.Message.Subject == "from mailx").Message;
        Assert.StartsWith("written in mailx", mailx.TextBody);
        Assert.NotNull(mailx.MessageId);
    }

    /// <summary>A user who is neither root nor the server's user submits on the socket while the server runs, and
    /// into the shared maildrop (made 1733 by the server) while it does not; the admin verbs stay refused.</summary>
    [RootFact]
    public async Task AUserWhoIsNotRootSubmitsWhetherTheServerRunsOrNotButCannotListTheQueue()
    {
        string[] asNobody = AsNobody;
        string shared = SharedMaildropPath;
        Directory.CreateDirectory(Data);
        // The server has never run: no shared maildrop yet, so nothing is kept and the program is told to retry.
        CliResult never = await RunAsync("setpriv", "Subject: never\n\nx\n", [.. asNobody, Sendmail, "alice@localhost"]);
        Assert.Equal(75, never.Code);
        Assert.Contains($"the shared maildrop cannot be used: {shared} does not exist (the server makes it when it starts); try again later", never.Error);

        await StartAsync();
        Assert.Equal(SharedMaildrop.DirectoryMode, File.GetUnixFileMode(shared));
        Succeeded(await RunAsync("setpriv", "Subject: as nobody\n\nx\n", [.. asNobody, Sendmail, "alice@localhost"]));
        var (_, message) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.Equal("as nobody", message.Subject);
        Assert.Contains($"(FastSpool sendmail, from userid {Nobody})", message.Headers["Received"]);
        // The host name is no local domain here: the first local domain completes the address.
        Assert.Equal("nobody@localhost", message.From.Mailboxes.Single().Address);

        CliResult mailq = await RunAsync("setpriv", null, [.. asNobody, Sendmail, "-bp"]);
        Assert.Equal(77, mailq.Code);
        Assert.Contains("permission denied", mailq.Error);
        CliResult flush = await RunAsync("setpriv", null, [.. asNobody, Sendmail, "-q"]);
        Assert.Equal(77, flush.Code);

        Server.KeepData = true;
        await Server.DisposeAsync();
        _server = null;
        CliResult down = await RunAsync("setpriv", "Subject: while down\n\ny\n", [.. asNobody, Sendmail, "-v", "alice@localhost"]);
        Succeeded(down);
        Assert.Contains($"dropped into {shared} as ", down.Error);
        Assert.Empty(Directory.GetFiles(Path.Combine(Data, "maildrop")));
        string dropped = Assert.Single(Directory.GetFiles(shared));
        Assert.Equal(SharedMaildrop.FileMode, File.GetUnixFileMode(dropped));
        Assert.Matches("^[0-9]{21}\\.[0-9A-F]{32}$", Path.GetFileName(dropped));

        await StartAsync();
        (_, message) = Assert.Single(await Server.DeliveredAsync("alice", 2), m => m.Message.Subject == "while down");
        Assert.Contains($"(FastSpool sendmail, from userid {Nobody})", message.Headers["Received"]);
        Assert.Empty(Directory.GetFiles(shared));
    }

    /// <summary>A shared maildrop that is not the server's (made by someone else before it started, or with the
    /// wrong mode) is neither written into by sendmail nor drained by the server, which says so.</summary>
    [RootFact]
    public async Task ASharedMaildropThatIsNotTheServersIsNeitherUsedNorDrained()
    {
        string[] asNobody = AsNobody;
        string shared = SharedMaildropPath;
        Directory.CreateDirectory(Data);
        Directory.CreateDirectory(shared);
        File.SetUnixFileMode(shared, (UnixFileMode)0b1_111_111_111); // 1777
        Tool.RunOrFail("chown", Nobody, shared);
        File.WriteAllText(Path.Combine(shared, "planted"), "FastSpool maildrop 1\n");

        CliResult result = await RunAsync("setpriv", "Subject: x\n\nx\n", [.. asNobody, Sendmail, "alice@localhost"]);
        Assert.Equal(75, result.Code);
        Assert.Contains($"{shared} belongs to uid 65534, not to the server's user (uid 0)", result.Error);

        await StartAsync();
        Assert.Contains(Server.Log.Lines, l => l.Contains("the shared maildrop cannot be used", StringComparison.Ordinal)
            && l.Contains("belongs to uid 65534", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(shared, "planted")));
        Assert.False(Directory.Exists(Path.Combine(Data, "maildrop-corrupt")));
    }

    [RootFact]
    public async Task AUidWithoutALoginNameMustGiveTheSender()
    {
        await StartAsync();
        string[] asStranger = ["--reuid=54321", "--regid=54321", "--clear-groups", "env", "FASTSPOOL_CONFIG=" + ConfigFile, "HOME=/tmp"];
        CliResult nameless = await RunAsync("setpriv", "Subject: who\n\nx\n", [.. asStranger, Sendmail, "alice@localhost"]);
        Assert.Equal(67, nameless.Code);
        Assert.Contains("no login name for uid 54321; give the sender with -f", nameless.Error);
        Succeeded(await RunAsync("setpriv", "Subject: named\n\nx\n", [.. asStranger, Sendmail, "-f", "robot@example.test", "alice@localhost"]));
        var (_, message) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.Contains("(FastSpool sendmail, from userid 54321)", message.Headers["Received"]);
    }

    /// <summary>sendmail reads the whole message before it writes anything: one killed while its input is still
    /// coming leaves nothing (its spool has no name), and a file left by a writer killed in the middle of the maildrop
    /// write starts with a dot and is never picked up (TheRunningServerTakesTheMaildropIn... in SendmailEndToEndTests).</summary>
    [Fact]
    public async Task AWriterKilledInTheMiddleLeavesNothingThatIsPickedUp()
    {
        Directory.CreateDirectory(Data);
        string maildrop = Path.Combine(Data, "maildrop");
        Succeeded(await RunAsync(Sendmail, "Subject: complete\n\nwhole\n", "alice@localhost"));
        var info = new ProcessStartInfo(Sendmail) { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("alice@localhost");
        info.Environment["FASTSPOOL_CONFIG"] = ConfigFile;
        using (Process writer = Process.Start(info)!)
        {
            // More than a pipe holds (64 KiB): once the write returns, sendmail has been reading the message.
            await writer.StandardInput.WriteAsync("Subject: killed\n\npart one\n" + string.Concat(Enumerable.Repeat(new string('x', 70) + "\n", 4000)));
            await writer.StandardInput.FlushAsync();
            writer.Kill(); // SIGKILL, with the message half written
            await writer.WaitForExitAsync();
        }
        Assert.Single(Directory.GetFiles(maildrop));

        await StartAsync();
        var (_, message) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.Equal("complete", message.Subject);
        Succeeded(await RunAsync(Sendmail, null, "-q"));
        await Server.WaitForIdleQueueAsync();
        Assert.Single(Mailbox.Read(Server.MailboxPath("alice")));
        Assert.Empty(Directory.GetFiles(maildrop));
    }

    /// <summary>The load: 1,000 invocations of the native client, 50 at a time, each a process of its own as
    /// cron and scripts start it; every message arrives once.</summary>
    [Fact]
    public async Task AThousandConcurrentProcessesAreEachDeliveredOnce()
    {
        await StartAsync();
        int next = -1;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            for (int i = Interlocked.Increment(ref next); i < 1000; i = Interlocked.Increment(ref next))
            {
                CliResult result = await RunAsync(Sendmail, $"Subject: n{i}\n\nmessage {i}\n", "alice@localhost");
                if (result.Code != 0)
                    failures.Add(result.ToString());
            }
        })));
        Assert.Empty(failures);
        List<(string, MimeMessage Message)> messages = await Server.DeliveredAsync("alice", 1000, TimeSpan.FromSeconds(120));
        Assert.Equal(1000, messages.Select(m => m.Message.Subject).Distinct().Count());
    }

    [Fact]
    public async Task NewaliasesHasTheRunningServerReadTheAliases()
    {
        int port = TestServer.FreePort();
        Directory.CreateDirectory(Data);
        new UserStore(Data).Add("alice", null);
        using ServerProcess server = await ServerProcess.StartAsync(Data, port, "--config", ConfigFile);
        File.WriteAllText(Path.Combine(Data, "aliases"), "team: alice\nbroken line without colon\n");
        CliResult bad = await RunAsync(Path.Combine(Bin, "newaliases"), null);
        Assert.Equal(78, bad.Code);
        Assert.Contains("aliases", bad.Error);
        Assert.DoesNotContain("reload:", server.Output);

        File.WriteAllText(Path.Combine(Data, "aliases"), "team: alice\n");
        CliResult result = await RunAsync(Path.Combine(Bin, "newaliases"), null);
        Assert.True(result.Code == 0, result + server.Output);
        Assert.Contains("newaliases: 1 aliases, no problems", result.Out);
        Assert.Contains($"newaliases: the server (pid {server.Id}) reads them again", result.Out);
        await server.WaitForOutputAsync("reload: done");
        Succeeded(await RunAsync(Sendmail, "Subject: to the team\n\nx\n", "team@localhost"));
        await Wait.UntilAsync(() => Mailbox.CountSeparators(Path.Combine(Data, "mail", "alice")) == 1, because: "the team's message in alice's mailbox",
            observed: () => server.Output);
        await server.StopAsync();
    }
}
