using System.Text;
using FastSpool.Cli.Sendmail;
using FastSpool.Configuration;
using FastSpool.Protocols.Smtp;
using FastSpool.Queue.Pickup;
using FastSpool.Server.Sendmail;
using FastSpool.Server.Tests.Support;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace FastSpool.Server.Tests.Sendmail;

/// <summary><c>fastspool sendmail</c> (run in this process, as a program runs it: a configuration file, a message on
/// standard input) against a whole server: over the submission socket when the server runs, through the maildrop
/// when it does not. What arrives is read back with MimeKit's mbox parser.</summary>
public sealed class SendmailEndToEndTests : IAsyncDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fastspool-sm-").FullName;
    private TestServer? _server;

    private string Data => Path.Combine(_root, "data");

    private string ConfigFile => Path.Combine(_root, "fastspool.json");

    private TestServer Server => _server!;

    private static readonly uint Uid = Posix.Libc.GetRealUserId();

    private static readonly string User = Posix.Libc.UserNameOf(Uid)!;

    public SendmailEndToEndTests() => WriteConfig();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>The one file both the server and sendmail read, as on a host.</summary>
    private void WriteConfig(string extra = "") => File.WriteAllText(ConfigFile, $$"""
        { "DataDirectory": "{{Data}}", "LocalDomains": [ "localhost", "example.test", "mx.example.test" ],
          "Smtp": { "Hostname": "mx.example.test" {{extra}} }, "Users": { "System": false } }
        """);

    private async Task StartAsync(Action<FastSpoolOptions>? configure = null)
    {
        _server = await TestServer.StartAsync(o =>
        {
            o.LocalDomains = ["localhost", "example.test", "mx.example.test"];
            configure?.Invoke(o);
        }, Data, logLevel: LogLevel.Information);
    }

    private CliResult Sendmail(string input, params string[] args) => CliRunner.RunWithInput(input, ["sendmail", "--config", ConfigFile, .. args]);

    private static void Succeeded(CliResult result) => Assert.True(result.Code == 0, result.ToString());

    /// <summary>Flushes; then the one message with <paramref name="subject"/> is alice's, the shared maildrop is empty,
    /// and each of <paramref name="movedAside"/> was moved aside (as <c>shared.NAME</c>) and logged with its reason.</summary>
    private async Task FlushAndExpectAsync(string shared, string subject, params (string File, string Reason)[] movedAside)
    {
        Succeeded(Sendmail("", "-q"));
        Assert.Equal(subject, Assert.Single(await Server.DeliveredAsync("alice", 1)).Message.Subject);
        Assert.Empty(Directory.GetFileSystemEntries(shared));
        Assert.Equal(movedAside.Select(m => "shared." + m.File),
            Directory.GetFileSystemEntries(Path.Combine(Data, "maildrop-corrupt")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach ((string file, string reason) in movedAside)
        {
            Assert.Contains(Server.Log.Lines, l => l.Contains($"maildrop: {file}: moved to", StringComparison.Ordinal)
                && l.Contains(reason, StringComparison.Ordinal));
        }
    }

    /// <summary>A well-formed maildrop file, as sendmail writes it, from me@localhost to alice with this subject.</summary>
    private static void WriteMaildropFile(string path, string subject)
    {
        using FileStream file = File.Create(path);
        long at = MaildropFile.WriteEnvelope(file, new MaildropEnvelope("me@localhost", [new("alice@localhost", DsnNotify.None)], DsnReturn.Unspecified, "", false));
        long start = file.Position;
        file.Write(Encoding.ASCII.GetBytes($"Subject: {subject}\r\n\r\nup\r\n"));
        MaildropFile.WriteSize(file, at, file.Position - start);
    }

    [Fact]
    public async Task AMessageWithArgumentsArrivesWithItsHeadCompletedAndTheSubmittersUid()
    {
        await StartAsync();
        Succeeded(Sendmail("Subject: hello\n\nfirst line\n..leading dot\nlast\n", "-f", "me@example.org", "-F", "Me Myself", "alice@localhost"));

        var (marker, message) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.StartsWith("From me@example.org ", marker);
        Assert.Equal("hello", message.Subject);
        Assert.Equal("\"Me Myself\" <me@example.org>", message.From.ToString());
        Assert.NotEqual(DateTimeOffset.MinValue, message.Date);
        Assert.EndsWith("@mx.example.test", message.MessageId);
        Assert.Matches($"^by mx\\.example\\.test \\(FastSpool sendmail, from userid {Uid}\\)\\s+id [0-9A-F]{{13}}; ", message.Headers["Received"]);
        Assert.Equal("first line\n..leading dot\nlast\n", message.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n') + "\n");
        Assert.Contains(Server.Log.Lines, l => l.Contains($": uid={Uid} (sendmail)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheSenderIsTheInvokingUserAtTheHostnameAndBareNamesAreQualified()
    {
        await StartAsync();
        Succeeded(Sendmail("Subject: who\n\nx\n", "alice"));

        var (marker, message) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.StartsWith($"From {User}@mx.example.test ", marker);
        Assert.Equal($"{User}@mx.example.test", message.From.Mailboxes.Single().Address);
        Assert.Equal($"<{User}@mx.example.test>", message.Headers["Return-Path"]);
        Assert.Equal("alice@mx.example.test", message.Headers["Delivered-To"]);
    }

    [Fact]
    public async Task WithTRecipientsComeFromToCcAndBccPlusTheArgumentsAndBccIsRemoved()
    {
        await StartAsync();
        Succeeded(Sendmail("To: Alice <alice@localhost>\nCc: team: ;\nBcc: postmaster@localhost\nSubject: t\n\nbody\n.\nstill body\n",
            "-t", "-i", "bob@localhost"));

        List<(string, MimeMessage)> alice = await Server.DeliveredAsync("alice", 1);
        List<(string, MimeMessage)> bob = await Server.DeliveredAsync("bob", 1);
        foreach ((_, MimeMessage m) in alice.Concat(bob))
        {
            Assert.Null(m.Headers["Bcc"]);
            Assert.Equal("body\n.\nstill body\n", m.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n') + "\n");
        }
        Assert.Contains(Server.Log.Lines, l => l.Contains("to=<postmaster@localhost>", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutIALoneDotEndsTheMessageAndOiIsTheSameAsI()
    {
        await StartAsync();
        Succeeded(Sendmail("Subject: dot\n\nbefore\n.\nafter\n", "alice@localhost"));
        Succeeded(Sendmail("Subject: oi\n\nbefore\n.\nafter\n", "-oi", "alice@localhost"));

        List<(string, MimeMessage)> messages = await Server.DeliveredAsync("alice", 2);
        MimeMessage dot = messages.Single(m => m.Item2.Subject == "dot").Item2;
        MimeMessage oi = messages.Single(m => m.Item2.Subject == "oi").Item2;
        Assert.Equal("before\n", dot.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n') + "\n");
        Assert.Equal("before\n.\nafter\n", oi.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n') + "\n");
    }

    [Fact]
    public async Task DsnOptionsReachTheQueue()
    {
        await StartAsync();
        // alice's mailbox is a link: her delivery fails, and the failure is reported to the sender as asked.
        Directory.CreateDirectory(Server.MailDirectory);
        File.WriteAllText(Path.Combine(_root, "target"), "");
        File.CreateSymbolicLink(Server.MailboxPath("alice"), Path.Combine(_root, "target"));
        Succeeded(Sendmail("Subject: dsn\n\nx\n", "-f", "bob@localhost", "-N", "failure", "-R", "hdrs", "-V", "env-7", "alice@localhost"));

        var (_, notice) = Assert.Single(await Server.DeliveredAsync("bob", 1));
        ReceivedDsn dsn = ReceivedDsn.Read(notice);
        Assert.Equal("env-7", dsn.PerMessage["Original-Envelope-Id"]);
        Assert.Equal("failed", dsn.Recipient["Action"]);
        Assert.IsType<TextRfc822Headers>(dsn.Returned);
    }

    [Fact]
    public async Task VerboseSaysWhatHappens()
    {
        await StartAsync();
        CliResult result = Sendmail("Subject: v\n\nx\n", "-v", "-odb", "alice@localhost");
        Succeeded(result);
        Assert.Contains("sendmail: ignored: -odb", result.Error);
        Assert.Contains("sendmail: >>> MAIL FROM:<", result.Error);
        Assert.Matches("sendmail: queued: 2\\.0\\.0 Ok: queued as [0-9A-F]{13}", result.Error);
        await Server.DeliveredAsync("alice", 1);
    }

    [Fact]
    public async Task RefusedRecipientsAreNamedAndTheOthersGetTheMessage()
    {
        await StartAsync();
        CliResult some = Sendmail("Subject: some\n\nx\n", "alice@localhost", "nobody@localhost");
        Assert.Equal(0, some.Code);
        Assert.Contains("sendmail: <nobody@localhost>: 550 5.1.1", some.Error);
        CliResult none = Sendmail("Subject: none\n\nx\n", "nobody@localhost");
        Assert.Equal(67, none.Code);
        CliResult remote = Sendmail("Subject: remote\n\nx\n", "someone@elsewhere.example");
        Assert.Equal(77, remote.Code);
        Assert.Contains("relaying is not configured", remote.Error);
        var (_, m) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.Equal("some", m.Subject);
    }

    [Fact]
    public async Task NoRecipientIsAUsageErrorAndNoneInTheHeadsIsADataError()
    {
        await StartAsync();
        Assert.Equal(64, Sendmail("Subject: x\n\nx\n").Code);
        CliResult t = Sendmail("Subject: x\n\nx\n", "-t");
        Assert.Equal(65, t.Code);
        Assert.Contains("no To, Cc or Bcc address", t.Error);
        Assert.Equal(64, Sendmail("x\n", "not an address <").Code);
    }

    [Fact]
    public async Task WhatCannotBeStoredIsRefusedAndNothingArrives()
    {
        WriteConfig(", \"MaxMessageSize\": 2048");
        await StartAsync(o => o.Smtp.MaxMessageSize = 2048);
        CliResult big = Sendmail("Subject: big\n\n" + string.Concat(Enumerable.Repeat(new string('x', 70) + "\n", 40)), "alice@localhost");
        Assert.Equal(65, big.Code);
        Assert.Contains("larger than 2048 octets (Smtp:MaxMessageSize); nothing was sent", big.Error);
        CliResult cr = Sendmail("Subject: cr\n\na\rb\n", "alice@localhost");
        Assert.Equal(65, cr.Code);
        Assert.Contains("line 3 holds a carriage return not followed by a line feed; nothing was sent", cr.Error);
        Succeeded(Sendmail("Subject: fine\n\nok\n", "alice@localhost"));
        var (_, m) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.Equal("fine", m.Subject);
    }

    /// <summary>A program's line longer than the limit (cron output, generated HTML) is not refused: it arrives broken
    /// as Postfix's SMTP client breaks one, the rest on lines that start with a space, and -v says so.</summary>
    [Fact]
    public async Task ALongLineArrivesBrokenAsPostfixBreaksIt()
    {
        await StartAsync();
        string longLine = string.Concat(Enumerable.Range(0, 1200).Select(i => (char)('a' + (i % 26))));
        CliResult result = Sendmail("Subject: long\n\n" + longLine + "\nend\n", "-v", "alice@localhost");
        Succeeded(result);
        Assert.Contains("1 lines longer than 998 characters were broken", result.Error);
        var (_, m) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.Equal(longLine[..998] + "\n " + longLine[998..] + "\nend\n",
            m.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n') + "\n");
    }

    [Fact]
    public async Task BpListsAndQFlushesTheRunningServersQueue()
    {
        await StartAsync(o =>
        {
            o.Delivery.RetryDelay = TimeSpan.FromHours(1);
            o.Delivery.MaxRetryDelay = TimeSpan.FromHours(1);
        });
        Directory.CreateDirectory(Server.MailDirectory);
        string lockFile = Server.MailboxPath("alice") + ".lock";
        File.WriteAllText(lockFile, Environment.ProcessId + "\n");
        Succeeded(Sendmail("Subject: later\n\nx\n", "alice@localhost"));
        await Wait.UntilAsync(() => Server.Counters.DeferredRecipients == 1, because: "a deferred recipient", observed: () => Server.Counters.ToString());

        CliResult listed = Sendmail("", "-bp");
        Succeeded(listed);
        Assert.Contains("alice@localhost", listed.Out);
        Assert.Contains("is locked", listed.Out);
        string id = listed.Out.Split('\n')[1][..13];

        File.Delete(lockFile);
        CliResult flushed = Sendmail("", "-qI" + id);
        Succeeded(flushed);
        Assert.Contains($"{id}: flushed", flushed.Out);
        await Server.DeliveredAsync("alice", 1);
        Succeeded(Sendmail("", "-q"));
        Assert.Equal("Mail queue is empty\n", Sendmail("", "-bp").Out);
    }

    [Fact]
    public async Task BvSaysWhatWouldHappenAndSendsNothing()
    {
        await StartAsync();
        File.WriteAllText(Path.Combine(Data, "aliases"), "team: alice, bob, friend@far.example\n");
        await Server.WaitUntilDeliverableAsync("team");
        CliResult result = Sendmail("", "-bv", "alice@localhost", "team@example.test", "nobody", "x@far.example");
        Assert.Equal(67, result.Code);
        Assert.Equal(
            "alice@localhost: local mailbox alice\n" +
            "team@example.test: alias: mailboxes alice, bob; remote friend@far.example\n" +
            "nobody@mx.example.test: undeliverable: no such user 'nobody'\n" +
            "x@far.example: remote, and relaying is not configured (no Relay:Smarthost)\n", result.Out);
        Succeeded(Sendmail("", "-bv", "alice"));
        Assert.Equal(0, Server.Counters.Messages);
        Assert.False(File.Exists(Server.MailboxPath("alice")));
    }

    [Fact]
    public async Task WithTheServerDownTheMessageWaitsInTheMaildropAndArrivesOnceWhenItStarts()
    {
        Directory.CreateDirectory(Data);
        CliResult result = Sendmail("Subject: while down\n\nkept\n", "-v", "alice@localhost");
        Succeeded(result);
        Assert.Contains("dropping it into the maildrop", result.Error);
        string file = Assert.Single(Directory.GetFiles(Path.Combine(Data, "maildrop")));
        Assert.Equal(Posix.PrivateModes.File, File.GetUnixFileMode(file));

        await StartAsync();
        var (marker, message) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.Equal("while down", message.Subject);
        Assert.Matches($"from userid {Uid}\\)", message.Headers["Received"]);
        Assert.Empty(Directory.GetFiles(Path.Combine(Data, "maildrop")));
        Assert.Contains(Server.Log.Lines, l => l.Contains($"uid={Uid} from=<{User}@mx.example.test>, size=", StringComparison.Ordinal)
            && l.Contains("(maildrop " + Path.GetFileName(file) + ")", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AServerThatRefusesAtTheGreetingGetsTheMessageThroughTheMaildrop()
    {
        await StartAsync(o =>
        {
            o.Smtp.MaxConnections = 1;
            o.Sendmail.MaildropPollInterval = TimeSpan.Zero;
        });
        CliResult result;
        using (RawSmtp held = await RawSmtp.ConnectAsync(Server.Port))
        {
            await held.ExpectAsync("220 ");
            result = Sendmail("Subject: refused at first\n\nx\n", "-v", "alice@localhost");
        }
        Succeeded(result);
        Assert.Contains("it answered 421 4.7.0 mx.example.test Error: too many connections", result.Error);
        Assert.Single(Directory.GetFiles(Path.Combine(Data, "maildrop")));
        Succeeded(Sendmail("", "-q"));
        var (_, message) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.Equal("refused at first", message.Subject);
    }

    /// <summary>A server that fails after the message was sent (a 4xx to the end of the data, or the connection lost
    /// in the middle of it) is a fault that a running FastSpool cannot be made to produce on demand: a scripted server
    /// on the submission socket stands in for it. sendmail read the message whole before sending it, so the maildrop
    /// takes it, and the real server delivers it once.</summary>
    [Theory]
    [InlineData("451 4.3.0 Error: queue file write error")]
    [InlineData(null)]
    public async Task AServerThatFailsAfterTheMessageWasSentLeavesItToTheMaildrop(string? replyToTheEnd)
    {
        string socketPath = Path.Combine(_root, "failing.sock");
        File.WriteAllText(ConfigFile, $$"""
            { "DataDirectory": "{{Data}}", "LocalDomains": [ "localhost" ], "Smtp": { "Hostname": "mx.example.test" },
              "Users": { "System": false }, "Sendmail": { "Socket": "{{socketPath}}" } }
            """);
        Directory.CreateDirectory(Data);
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
        listener.Listen();
        Task failing = Task.Run(async () =>
        {
            using System.Net.Sockets.Socket connection = await listener.AcceptAsync();
            using var stream = new System.Net.Sockets.NetworkStream(connection);
            using var reader = new StreamReader(stream, Encoding.Latin1);
            using var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 failing ESMTP");
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line == "DATA")
                {
                    await writer.WriteLineAsync("354 go ahead");
                    if (replyToTheEnd is null)
                    {
                        await reader.ReadLineAsync();
                        return; // closed in the middle of the data
                    }
                    while (await reader.ReadLineAsync() is { } data && data != ".")
                    {
                    }
                    await writer.WriteLineAsync(replyToTheEnd);
                }
                else
                {
                    await writer.WriteLineAsync(line == "QUIT" ? "221 bye" : "250 ok");
                }
            }
        });

        CliResult result = Sendmail("Subject: failed late\n\nbody\n", "-v", "alice@localhost");
        await failing;
        Succeeded(result);
        Assert.Contains(replyToTheEnd is null ? "the connection to the server was lost" : "it answered 451 4.3.0", result.Error);
        Assert.Contains("dropping it into the maildrop", result.Error);
        Assert.Single(Directory.GetFiles(Path.Combine(Data, "maildrop")));

        await StartAsync();
        var (_, message) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.Equal("failed late", message.Subject);
    }

    /// <summary>Over 1 MiB the message waits in a temporary file with no name (nothing left behind), and arrives
    /// byte for byte.</summary>
    [Fact]
    public async Task ALargeMessageIsSpooledAsideAndArrivesWhole()
    {
        await StartAsync();
        var body = new StringBuilder();
        for (int i = 0; body.Length < 3 * MessageSpool.MemoryLimit; i++)
            body.Append(i % 7 == 0 ? "." : "").Append("line ").Append(i).Append(' ', 60).Append('\n');
        string[] before = Directory.GetFiles(Path.GetTempPath(), ".fastspool-sendmail.*");
        Succeeded(Sendmail("Subject: large\n\n" + body, "-i", "alice@localhost"));
        var (_, message) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        // The mbox keeps an empty line after each message, which the parser gives as part of the last one's body.
        Assert.Equal(body.ToString(), message.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n') + "\n");
        Assert.Equal(before, Directory.GetFiles(Path.GetTempPath(), ".fastspool-sendmail.*"));
    }

    [Fact]
    public async Task TheRunningServerTakesTheMaildropInWhenFlushedAndLeavesDotFilesAndMovesCorruptOnesAside()
    {
        WriteConfig();
        await StartAsync(o => o.Sendmail.MaildropPollInterval = TimeSpan.Zero);
        string maildrop = Path.Combine(Data, "maildrop");
        // A finished file, as sendmail writes it; one still being written; one that is not a maildrop file.
        WriteMaildropFile(Path.Combine(maildrop, "1-good"), "picked");
        File.WriteAllText(Path.Combine(maildrop, ".123.unfinished"), "FastSpool maildrop 1\nsender a\n");
        File.WriteAllText(Path.Combine(maildrop, "2-corrupt"), "FastSpool maildrop 1\nsender a@x\nrecipient alice@localhost 0\nsize 00000000000000000100\n\nshort\r\n");

        Succeeded(Sendmail("", "-q"));
        var (_, message) = Assert.Single(await Server.DeliveredAsync("alice", 1));
        Assert.Equal("picked", message.Subject);
        Assert.Equal([".123.unfinished"], Directory.GetFiles(maildrop).Select(Path.GetFileName));
        Assert.True(File.Exists(Path.Combine(Data, "maildrop-corrupt", "2-corrupt")));
        Assert.Contains(Server.Log.Lines, l => l.Contains("maildrop: 2-corrupt: moved to", StringComparison.Ordinal)
            && l.Contains("the message has 7 octets, the envelope says 100", StringComparison.Ordinal));
    }

    /// <summary>Anyone may put anything into the shared maildrop: a FIFO (which must not hang the pickup), a link to a
    /// file the server may read and the user may not, a second name of a file. None is read; each is moved aside and
    /// logged; a good file beside them is taken in.</summary>
    [Fact]
    public async Task WhatIsNoPlainFileInTheSharedMaildropIsMovedAsideUnread()
    {
        await StartAsync(o => o.Sendmail.MaildropPollInterval = TimeSpan.Zero);
        string shared = Data + ".maildrop";
        Assert.Equal(SharedMaildrop.DirectoryMode, File.GetUnixFileMode(shared));
        Tool.RunOrFail("mkfifo", Path.Combine(shared, "1-fifo"));
        File.CreateSymbolicLink(Path.Combine(shared, "2-link"), Path.Combine(Data, "users"));
        string outside = Path.Combine(_root, "outside");
        File.WriteAllText(outside, "x");
        Tool.RunOrFail("ln", outside, Path.Combine(shared, "3-second-name"));
        WriteMaildropFile(Path.Combine(shared, "4-good"), "shared");

        await FlushAndExpectAsync(shared, "shared", ("1-fifo", "not a regular file"), ("2-link", "moved to"), ("3-second-name", "more than one link"));
    }

    /// <summary>Any user may write into the shared maildrop without sendmail: an envelope the SMTP server would refuse
    /// (a CR in the sender, more recipients than Smtp:MaxRecipients, a size over Smtp:MaxMessageSize) is moved aside
    /// and logged, and the drain goes on to the good file behind it.</summary>
    [Fact]
    public async Task AHostileFileInTheSharedMaildropIsMovedAsideAndTheRestIsTakenIn()
    {
        await StartAsync(o =>
        {
            o.Sendmail.MaildropPollInterval = TimeSpan.Zero;
            o.Smtp.MaxRecipients = 3;
            o.Smtp.MaxMessageSize = 4096;
        });
        string shared = Data + ".maildrop";
        static string Envelope(string lines, int size) => $"FastSpool maildrop 1\n{lines}size {size:D20}\n\n";
        File.WriteAllText(Path.Combine(shared, "1-cr"), Envelope("sender a\rb@x\nrecipient alice@localhost 0\n", 3) + "x\r\n");
        File.WriteAllText(Path.Combine(shared, "2-many"),
            Envelope(string.Concat(Enumerable.Range(0, 4).Select(i => $"recipient r{i}@localhost 0\n")) + "sender a@x\n", 3) + "x\r\n");
        string big = string.Concat(Enumerable.Repeat(new string('b', 78) + "\r\n", 100));
        File.WriteAllText(Path.Combine(shared, "3-big"), Envelope("sender a@x\nrecipient alice@localhost 0\n", big.Length) + big);
        const string Good = "Subject: good\r\n\r\nok\r\n";
        File.WriteAllText(Path.Combine(shared, "4-good"), Envelope("sender a@x\nrecipient alice@localhost 0\n", Good.Length) + Good);

        await FlushAndExpectAsync(shared, "good", ("1-cr", "a CR or NUL in the envelope"), ("2-many", "more than 3 recipients"),
            ("3-big", "larger than Smtp:MaxMessageSize"));
    }

    /// <summary>The shared maildrop is looked at again at every pickup: made (or mended) while the server runs, it is
    /// drained from then on without a restart.</summary>
    [Fact]
    public async Task ASharedMaildropMadeWhileTheServerRunsIsDrainedWithoutARestart()
    {
        string shared = Data + ".maildrop";
        Directory.CreateDirectory(Data);
        File.WriteAllText(shared, "a file where the directory should be");
        await StartAsync(o => o.Sendmail.MaildropPollInterval = TimeSpan.Zero);
        Assert.Contains(Server.Log.Lines, l => l.Contains($"the shared maildrop cannot be used, so local users", StringComparison.Ordinal)
            && l.Contains($"{shared} is not a directory", StringComparison.Ordinal));

        File.Delete(shared);
        Directory.CreateDirectory(shared);
        File.SetUnixFileMode(shared, SharedMaildrop.DirectoryMode);
        WriteMaildropFile(Path.Combine(shared, "late"), "late");
        Succeeded(Sendmail("", "-q"));
        Assert.Equal("late", Assert.Single(await Server.DeliveredAsync("alice", 1)).Message.Subject);
        Assert.Contains(Server.Log.Lines, l => l.Contains($"maildrop: the shared maildrop {shared} is usable now", StringComparison.Ordinal));
    }

    /// <summary>1,000 invocations, 100 at a time, each its own connection (run in this process: 1,000 .NET start-ups
    /// would take minutes of CPU on a two-core machine; the process tests run the real binary).</summary>
    [Fact]
    public async Task AThousandConcurrentInvocationsAreEachDeliveredOnce()
    {
        await StartAsync();
        await RunConcurrentlyAsync(1000, 100);
        List<(string, MimeMessage)> messages = await Server.DeliveredAsync("alice", 1000, TimeSpan.FromSeconds(120));
        Assert.Equal(1000, messages.Select(m => m.Item2.Subject).Distinct().Count());
    }

    [Fact]
    public async Task ConcurrentInvocationsWithTheServerDownAreEachDeliveredOnceWhenItStarts()
    {
        Directory.CreateDirectory(Data);
        await RunConcurrentlyAsync(200, 50);
        Assert.Equal(200, Directory.GetFiles(Path.Combine(Data, "maildrop")).Length);
        await StartAsync();
        List<(string, MimeMessage)> messages = await Server.DeliveredAsync("alice", 200, TimeSpan.FromSeconds(60));
        Assert.Equal(200, messages.Select(m => m.Item2.Subject).Distinct().Count());
    }

    private async Task RunConcurrentlyAsync(int count, int atOnce)
    {
        int next = -1;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Thread[] threads = [.. Enumerable.Range(0, atOnce).Select(_ => new Thread(() =>
        {
            for (int i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                CliResult result = Sendmail($"Subject: n{i}\n\nmessage {i}\n", "alice@localhost");
                if (result.Code != 0)
                    failures.Add(result.ToString());
            }
        }))];
        foreach (Thread thread in threads)
            thread.Start();
        await Task.Run(() =>
        {
            foreach (Thread thread in threads)
                thread.Join();
        });
        Assert.Empty(failures);
    }
}
