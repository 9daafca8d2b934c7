using System.Text.RegularExpressions;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Tests;

/// <summary>What the SMTP sessions log, and the README's log examples against the lines the code writes.</summary>
public sealed class SessionLogTests
{
    [Theory]
    [InlineData("EHLO", "MAIL FROM:<bob@example.org> SIZE=999999999999", "552 5.3.4", "bob@example.org")]
    [InlineData("HELO", "MAIL FROM:<bob@example.org> BODY=8BITMIME", "555 5.5.4", "bob@example.org")]
    [InlineData("EHLO", "MAIL FROM:<bob@@example.org>", "501 5.1.7", "bob@@example.org")]
    [InlineData("EHLO", "MAIL FROM:<bob@example.org> FROB=1", "555 5.5.4", "bob@example.org")]
    public async Task AMailRejectionLogsTheSenderThatWasGiven(string hello, string mail, string reply, string sender)
    {
        await using TestServer server = await TestServer.StartAsync(logLevel: LogLevel.Information);
        using var raw = await RawSmtp.ConnectAsync(server.Port);
        await raw.ExpectAsync("220 ");
        await raw.SendAsync(hello + " client.test\r\n");
        await raw.ExpectAsync(hello == "EHLO" ? "250 CHUNKING" : "250 ");
        await raw.SendAsync(mail + "\r\n");
        await raw.ExpectAsync(reply[..3]);
        await Wait.UntilAsync(() => server.Log.Lines.Any(l => l.Contains("reject: MAIL", StringComparison.Ordinal)), because: "the MAIL rejection's log line");
        string line = server.Log.Lines.Single(l => l.Contains("reject: MAIL", StringComparison.Ordinal));
        Assert.StartsWith($"NOQUEUE: reject: MAIL from [127.0.0.1]: {reply}", line);
        Assert.Contains($"; from=<{sender}> to=<>", line);
    }

    [Fact]
    public async Task ASessionCutOffAtShutdownIsLoggedAsALostConnection()
    {
        TestServer server = await TestServer.StartAsync(logLevel: LogLevel.Information);
        using var raw = await RawSmtp.ConnectAsync(server.Port);
        await raw.ExpectAsync("220 ");
        await raw.SendAsync("EHLO client.test\r\n");
        await raw.ExpectAsync("250 CHUNKING");
        await raw.SendAsync("MAIL FROM:<bob@example.org>\r\n");
        await raw.ExpectAsync("250 2.1.0");
        await server.DisposeAsync();
        Assert.Contains("lost connection after MAIL from [127.0.0.1]: the server is stopping", server.Log.Lines);
    }

    /// <summary>The README's first log example, line by line, against a session that does the same: ids, times,
    /// delays and sizes aside, every line is one the server wrote.</summary>
    [Fact]
    public async Task TheReadmesLogExampleIsWhatTheServerWrites()
    {
        string readme = File.ReadAllText(Path.Combine(StartFailureTests.RepositoryRoot(), "README.md"));
        string block = Regex.Match(readme, "## Log\n.*?```\n(?<lines>.*?)```", RegexOptions.Singleline).Groups["lines"].Value;
        List<string> documented = [.. block.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => Regex.Replace(l, @"^\S+ \S+ \S+ ", "")) // time, component, level
            .Where(l => !l.Contains("carol", StringComparison.Ordinal) && !l.Contains("dave", StringComparison.Ordinal)
                && !Regex.IsMatch(l, "6B05C7180000[2-5]"))];
        Assert.Equal(7, documented.Count);

        await using TestServer server = await TestServer.StartAsync(logLevel: LogLevel.Information);
        using (var client = new SmtpClient { LocalDomain = "client.test" })
        {
            await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
            await client.SendAsync(TestMessage.Create("hi", "hello\n", "alice@localhost"));
            await client.DisconnectAsync(true);
        }
        await server.DeliveredAsync("alice", 1);
        using (var client = new SmtpClient { LocalDomain = "client.test" })
        {
            await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
            var message = TestMessage.Create("nobody", "hello\n", "nobody@localhost");
            await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(message));
            await client.DisconnectAsync(true);
        }
        await Wait.UntilAsync(() => server.Log.Lines.Count(l => l.StartsWith("disconnect from", StringComparison.Ordinal)) == 2, because: "two sessions logged");
        HashSet<string> written = [.. server.Log.Lines.Select(Normalize)];
        foreach (string line in documented)
            Assert.True(written.Contains(Normalize(line)), $"README line not written by the server: {line}\nwritten:\n{string.Join("\n", written)}");
    }

    private static string Normalize(string line) =>
        Regex.Replace(Regex.Replace(Regex.Replace(line, "[0-9A-F]{13}", "ID"), @"delay=[\d.]+", "delay=D"), @"size=\d+", "size=S");
}
