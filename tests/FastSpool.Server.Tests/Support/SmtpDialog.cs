using MimeKit;

namespace FastSpool.Server.Tests.Support;

/// <summary>Steps shared by the raw-dialogue tests: exact reply lines, the end of a connection, and the proof that
/// a refused message was never queued. Messages a test expects to be refused carry a subject starting with
/// <see cref="RefusedSubject"/>.</summary>
internal static class SmtpDialog
{
    public const string RefusedSubject = "REFUSED";

    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Connects, checks the greeting and says EHLO (or HELO, which offers no extensions).</summary>
    public static async Task<RawSmtp> OpenAsync(TestServer server, bool extended = true)
    {
        RawSmtp raw = await RawSmtp.ConnectAsync(server.Port);
        await ExpectLineAsync(raw, "220 mx.example.test ESMTP FastSpool");
        if (extended)
        {
            await raw.SendAsync("EHLO client.test\r\n");
            await raw.ExpectAsync("250 CHUNKING");
        }
        else
        {
            await raw.SendAsync("HELO client.test\r\n");
            await ExpectLineAsync(raw, "250 mx.example.test");
        }
        return raw;
    }

    /// <summary>The next reply line is exactly <paramref name="expected"/> (code, enhanced code and text).</summary>
    public static async Task ExpectLineAsync(RawSmtp raw, string expected, TimeSpan? timeout = null) =>
        Assert.Equal(expected, await raw.ReadLineAsync(timeout ?? ReplyTimeout));

    /// <summary>The server says nothing more and closes the connection.</summary>
    public static async Task ExpectClosedAsync(RawSmtp raw)
    {
        string? line = await raw.ReadLineAsync(ReplyTimeout);
        Assert.True(line is null, $"expected the connection to be closed, got '{line}'");
    }

    /// <summary>Sends MAIL, RCPT and DATA (pipelined, DATA last) and waits for the 354.</summary>
    public static async Task StartDataAsync(RawSmtp raw, string recipient = "alice@localhost")
    {
        await raw.SendAsync($"MAIL FROM:<bob@example.org>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n");
        await ExpectLineAsync(raw, "250 2.1.0 Ok");
        await ExpectLineAsync(raw, "250 2.1.5 Ok");
        await ExpectLineAsync(raw, "354 End data with <CR><LF>.<CR><LF>");
    }

    /// <summary>Sends a well-formed message on the open connection and returns its queue id.</summary>
    public static async Task<string> SendGoodMessageAsync(RawSmtp raw, string subject, params string[] users)
    {
        string rcpts = string.Concat(users.Select(u => $"RCPT TO:<{u}@localhost>\r\n"));
        await raw.SendAsync($"MAIL FROM:<bob@example.org>\r\n{rcpts}DATA\r\n");
        await ExpectLineAsync(raw, "250 2.1.0 Ok");
        foreach (string _ in users)
            await ExpectLineAsync(raw, "250 2.1.5 Ok");
        await ExpectLineAsync(raw, "354 End data with <CR><LF>.<CR><LF>");
        await raw.SendAsync($"Subject: {subject}\r\n\r\nall is well\r\n.\r\n");
        string? reply = await raw.ReadLineAsync(ReplyTimeout);
        Assert.Matches("^250 2.0.0 Ok: queued as [0-9A-F]{13}$", reply);
        return reply![^13..];
    }

    /// <summary>Proof that nothing refused was queued: a good message sent afterwards on a fresh connection is
    /// delivered to every one of <paramref name="users"/>, and no mailbox of theirs holds a refused message.
    /// Deliveries to one mailbox happen in queue order, so a refused message queued earlier would be there by now.</summary>
    public static async Task AssertOnlyGoodMailDeliveredAsync(TestServer server, params string[] users)
    {
        if (users.Length == 0)
            users = ["alice", "bob"];
        string subject = "good " + Guid.NewGuid().ToString("N");
        using (RawSmtp raw = await OpenAsync(server))
        {
            await SendGoodMessageAsync(raw, subject, users);
            await raw.SendAsync("QUIT\r\n");
            await ExpectLineAsync(raw, "221 2.0.0 Bye");
        }
        foreach (string user in users)
        {
            List<MimeMessage> messages = await WaitForSubjectAsync(server, user, subject);
            Assert.Single(messages, m => m.Subject == subject);
            Assert.DoesNotContain(messages, m => (m.Subject ?? "").StartsWith(RefusedSubject, StringComparison.Ordinal));
        }
    }

    /// <summary>Waits until <paramref name="user"/>'s mailbox holds a message with <paramref name="subject"/> and
    /// the queue is idle; returns all the messages of the mailbox, read after every delivery is done.</summary>
    public static async Task<List<MimeMessage>> WaitForSubjectAsync(TestServer server, string user, string subject)
    {
        string path = server.MailboxPath(user);
        await Wait.UntilAsync(() => HoldsSubject(path, subject), because: $"a message '{subject}' in {path}");
        await server.WaitForIdleQueueAsync();
        return Mailbox.Read(path).Select(m => m.Message).ToList();
    }

    private static bool HoldsSubject(string path, string subject)
    {
        try
        {
            return Mailbox.Read(path).Exists(m => m.Message.Subject == subject);
        }
        catch (FormatException)
        {
            return false; // caught in the middle of an append; read again
        }
    }
}
