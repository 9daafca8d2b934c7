using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using Xunit.Abstractions;

namespace FastSpool.Server.Tests;

/// <summary>Seeded random input over the live server: sessions built from valid commands and messages, mutated
/// (random bytes, long lines, bare CR and LF, NULs, pipelined garbage, BDAT with the wrong size), sent in random
/// pieces over several connections at once. Every reply line must be well-formed (three digits, a space or a
/// hyphen, printable text, CRLF, at most 512 octets, one code through a multi-line reply); every session must end
/// once the client has said all and closed its side; afterwards the server must still take mail from MailKit. The
/// seed of a failing session is in the failure message: <c>Session(seed)</c> rebuilds it.</summary>
public sealed class SmtpRandomInputTests(ITestOutputHelper output)
{
    private const int Seed = 5321;
    private const int Workers = 4;
    private const int SessionsPerWorker = 320; // about 30 s on a loaded two-core machine
    private static readonly TimeSpan SessionDeadline = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ReplyWait = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task SeededRandomSessionsGetWellFormedRepliesAndLeaveTheServerTakingMail()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.Smtp.MaxMessageSize = 64 * 1024);
        var started = Stopwatch.StartNew();
        long replies = 0;
        var codes = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var workers = new Task[Workers];
        for (int w = 0; w < Workers; w++)
        {
            int worker = w;
            workers[w] = Task.Run(async () =>
            {
                for (int i = 0; i < SessionsPerWorker; i++)
                    Interlocked.Add(ref replies, await RunSessionAsync(server.Port, Seed + worker * SessionsPerWorker + i, codes));
            });
        }
        await Task.WhenAll(workers);
        output.WriteLine($"{Workers * SessionsPerWorker} sessions, {replies} reply lines, {started.Elapsed.TotalSeconds:0.0} s; last reply lines by code and enhanced code: "
            + string.Join(", ", codes.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value}")));

        string subject = "after the noise " + Guid.NewGuid().ToString("N");
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
            await client.SendAsync(TestMessage.Create(subject));
            await client.DisconnectAsync(true);
        }
        List<MimeKit.MimeMessage> messages = await SmtpDialog.WaitForSubjectAsync(server, "alice", subject);
        Assert.Single(messages, m => m.Subject == subject);
    }

    /// <summary>One session: sends it (in random pieces) while reading every reply, closes its side, and reads to the
    /// end. Returns the number of reply lines, each checked.</summary>
    private static async Task<int> RunSessionAsync(int port, int seed, System.Collections.Concurrent.ConcurrentDictionary<string, int> codes)
    {
        List<byte[]> steps = Session(seed);
        var random = new Random(seed);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        NetworkStream stream = tcp.GetStream();
        using var deadline = new CancellationTokenSource(SessionDeadline);
        using var replied = new SemaphoreSlim(0);
        Task<byte[]> reading = ReadAllAsync(stream, replied, deadline.Token);
        try
        {
            // A client that talks before the greeting is refused at once (as it should be): wait for it.
            await replied.WaitAsync(deadline.Token);
            foreach (byte[] step in steps)
            {
                for (int at = 0; at < step.Length;)
                {
                    int piece = Math.Min(step.Length - at, 1 + random.Next(random.Next(2) == 0 ? 16 : 4096));
                    await stream.WriteAsync(step.AsMemory(at, piece), deadline.Token);
                    at += piece;
                }
                // Mostly a client that waits for a reply after each step (the server closes on text pipelined
                // behind EHLO, DATA, NOOP ...); no reply may be due (inside DATA), so the wait is short.
                if (random.Next(4) != 0)
                    await replied.WaitAsync(ReplyWait, deadline.Token);
            }
            tcp.Client.Shutdown(SocketShutdown.Send);
        }
        catch (IOException)
        {
            // The server closed the connection (too many errors, bad text): what it said is still read and checked.
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Assert.Fail($"session {seed}: the server stopped reading for {SessionDeadline.TotalSeconds} s");
        }
        byte[] received;
        try
        {
            received = await reading;
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"session {seed}: the server did not end the session within {SessionDeadline.TotalSeconds} s of the client closing its side");
            throw;
        }
        return CheckReplies(received, seed, codes);
    }

    /// <summary>Reads until the server closes; releases <paramref name="replied"/> once for each read that ended in a
    /// last reply line.</summary>
    private static async Task<byte[]> ReadAllAsync(NetworkStream stream, SemaphoreSlim replied, CancellationToken cancellationToken)
    {
        var all = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                all.Write(buffer, 0, n);
                if (EndsInLastReplyLine(all))
                    replied.Release();
            }
        }
        catch (IOException)
        {
            // A reset after the server closed with input unread: what came before it counts.
        }
        finally
        {
            replied.Release(); // closed: the replies say what happened
        }
        return all.ToArray();
    }

    private static bool EndsInLastReplyLine(MemoryStream all)
    {
        ReadOnlySpan<byte> bytes = all.GetBuffer().AsSpan(0, (int)all.Length);
        if (bytes.Length < 2 || bytes[^1] != '\n')
            return false;
        int start = bytes[..^1].LastIndexOf((byte)'\n') + 1;
        return bytes.Length - start > 3 && bytes[start + 3] != '-';
    }

    private static int CheckReplies(byte[] received, int seed, System.Collections.Concurrent.ConcurrentDictionary<string, int> codes)
    {
        int lines = 0;
        string? code = null; // the code of a multi-line reply under way
        int start = 0;
        while (start < received.Length)
        {
            int lf = Array.IndexOf(received, (byte)'\n', start);
            Assert.True(lf >= 0, $"session {seed}: the replies end in a line without CRLF: {Show(received.AsSpan(start))}");
            ReadOnlySpan<byte> line = received.AsSpan(start, lf + 1 - start);
            string shown = Show(line);
            Assert.True(line.Length <= 512, $"session {seed}: a reply line of {line.Length} octets: {shown}");
            Assert.True(line.Length >= 6 && line[^2] == '\r', $"session {seed}: a reply line not ended by CRLF or too short: {shown}");
            Assert.True(char.IsAsciiDigit((char)line[0]) && line[0] is >= (byte)'2' and <= (byte)'5' && char.IsAsciiDigit((char)line[1]) && char.IsAsciiDigit((char)line[2]),
                $"session {seed}: a reply line without a reply code: {shown}");
            Assert.True(line[3] is (byte)' ' or (byte)'-', $"session {seed}: a reply code not followed by a space or hyphen: {shown}");
            foreach (byte b in line[4..^2])
                Assert.True(b is >= 0x20 and < 0x7F, $"session {seed}: a reply line with an octet that is not printable ASCII: {shown}");
            string lineCode = Encoding.ASCII.GetString(line[..3]);
            Assert.True(code is null || code == lineCode, $"session {seed}: a multi-line reply changes its code from {code}: {shown}");
            code = line[3] == '-' ? lineCode : null;
            if (code is null)
                codes.AddOrUpdate(Encoding.ASCII.GetString(line[..Math.Min(line.Length - 2, 9)]), 1, (_, n) => n + 1);
            lines++;
            start = lf + 1;
        }
        Assert.True(code is null, $"session {seed}: the last reply is a multi-line reply without its last line");
        return lines;
    }

    private static string Show(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (byte b in bytes[..Math.Min(bytes.Length, 200)])
            text.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"<{b:X2}>");
        return text.ToString();
    }

    private static readonly string[] Commands =
    [
        "EHLO client.test", "HELO client.test", "MAIL FROM:<bob@example.org>", "MAIL FROM:<> SIZE=100 BODY=8BITMIME",
        "MAIL FROM:<bob@example.org> SMTPUTF8 RET=HDRS ENVID=a+2Bb", "RCPT TO:<alice@localhost>",
        "RCPT TO:<bob@localhost> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;bob+40localhost", "RCPT TO:<Postmaster>",
        "RCPT TO:<someone@elsewhere.example>", "RSET", "NOOP", "VRFY alice", "EXPN list", "HELP", "STARTTLS",
        "AUTH PLAIN AGFsaWNlAHNlY3JldA==", "ETRN example.test", "TURN", "QUIT",
    ];

    /// <summary>The steps of one session, made from <paramref name="seed"/> alone.</summary>
    internal static List<byte[]> Session(int seed)
    {
        var random = new Random(seed);
        List<byte[]> session = [Encoding.ASCII.GetBytes(random.Next(8) == 0 ? "HELO random.test\r\n" : "EHLO random.test\r\n")];
        int steps = 3 + random.Next(20);
        for (int i = 0; i < steps; i++)
        {
            byte[][] parts = random.Next(6) switch
            {
                0 => Transaction(random, bdat: false),
                1 => Transaction(random, bdat: true),
                _ => [Encoding.ASCII.GetBytes(Commands[random.Next(Commands.Length)] + "\r\n")],
            };
            foreach (byte[] part in parts)
                session.Add(random.Next(3) == 0 ? Mutate(random, part) : part);
        }
        return session;
    }

    /// <summary>A transaction as a client that waits where it must sends it: the commands, then the text (after
    /// DATA's 354).</summary>
    private static byte[][] Transaction(Random random, bool bdat)
    {
        var text = new StringBuilder(random.Next(2) == 0 ? "MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@localhost>\r\n" : "");
        string body = "Subject: random\r\n\r\n" + string.Concat(Enumerable.Range(0, random.Next(40)).Select(i => new string((char)('a' + i % 26), random.Next(90)) + "\r\n"));
        if (!bdat)
            return [Encoding.ASCII.GetBytes(text + "DATA\r\n"), Encoding.ASCII.GetBytes(body.Replace("\r\n.", "\r\n..", StringComparison.Ordinal) + ".\r\n")];
        int declared = body.Length + (random.Next(4) == 0 ? random.Next(-body.Length, 200) : 0); // sometimes the wrong size
        return [Encoding.ASCII.GetBytes(text + $"BDAT {declared} LAST\r\n" + body)];
    }

    private static byte[] Mutate(Random random, byte[] step)
    {
        var bytes = new List<byte>(step);
        switch (random.Next(8))
        {
            case 0: // random bytes in place
                for (int n = 1 + random.Next(8); n > 0 && bytes.Count > 0; n--)
                    bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                break;
            case 1: // a long line
                bytes.InsertRange(random.Next(bytes.Count + 1), Enumerable.Repeat((byte)'x', 400 + random.Next(5000)));
                break;
            case 2: // a bare LF
                bytes.Insert(random.Next(bytes.Count + 1), (byte)'\n');
                break;
            case 3: // a bare CR
                bytes.Insert(random.Next(bytes.Count + 1), (byte)'\r');
                break;
            case 4: // a NUL
                bytes.Insert(random.Next(bytes.Count + 1), 0);
                break;
            case 5: // pipelined garbage
                byte[] garbage = new byte[1 + random.Next(2000)];
                random.NextBytes(garbage);
                bytes.InsertRange(random.Next(bytes.Count + 1), garbage);
                break;
            case 6: // cut short
                bytes.RemoveRange(random.Next(bytes.Count + 1) is var at && at < bytes.Count ? at : 0, bytes.Count > 0 ? bytes.Count - Math.Min(at, bytes.Count) : 0);
                break;
            default: // a BDAT of a wrong or absurd size
                bytes.AddRange(Encoding.ASCII.GetBytes(random.Next(3) switch
                {
                    0 => $"BDAT {random.Next(10)}\r\n" + new string('y', random.Next(20)),
                    1 => "BDAT 99999999999999999999999 LAST\r\n",
                    _ => $"BDAT -{random.Next(100)}\r\n",
                }));
                break;
        }
        return [.. bytes];
    }
}
