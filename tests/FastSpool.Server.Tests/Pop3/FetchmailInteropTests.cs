using System.Diagnostics;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace FastSpool.Server.Tests.Pop3;

/// <summary>fetchmail (the Debian package) collects from FastSpool's POP3 server: it logs in, lists, retrieves and
/// deletes every message, and a second run finds none.</summary>
public sealed class FetchmailInteropTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "fastspool-fetchmail-" + Guid.NewGuid().ToString("N"));

    public FetchmailInteropTests() => Directory.CreateDirectory(_home);

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private (int ExitCode, string Output) Fetchmail(int port, string output)
    {
        string rc = Path.Combine(_home, ".fetchmailrc");
        File.WriteAllText(rc, $"""
            set no syslog
            poll 127.0.0.1 with proto POP3 port {port}
                user "alice" there with password "alice-secret" is "alice" here
                options fetchall nokeep sslproto ''
            """ + "\n");
        File.SetUnixFileMode(rc, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var start = new ProcessStartInfo("fetchmail") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (string argument in (string[])["-f", rc, "--idfile", Path.Combine(_home, ".fetchids"), "--bsmtp", output, "-v"])
            start.ArgumentList.Add(argument);
        start.Environment["HOME"] = _home;
        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> error = process.StandardError.ReadToEndAsync();
        string text = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "fetchmail did not finish within 60 s");
        return (process.ExitCode, text + error.Result);
    }

    [Fact]
    public async Task FetchmailCollectsAndDeletesEveryMessage()
    {
        Assert.True(File.Exists("/usr/bin/fetchmail"), "fetchmail (Debian package fetchmail) is needed; .ci/run installs it");
        await using TestServer server = await TestServer.StartAsync();
        using (var smtp = new SmtpClient())
        {
            await smtp.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
            foreach (string subject in (string[])["first", "second", "third"])
                await smtp.SendAsync(TestMessage.Create(subject, ".a line with a dot\nFrom the start\n"));
            await smtp.DisconnectAsync(true);
        }
        await server.DeliveredAsync("alice", 3);

        string output = Path.Combine(_home, "collected.bsmtp");
        (int code, string log) = await Task.Run(() => Fetchmail(server.Pop3Port, output));
        Assert.True(code == 0, $"fetchmail exit code {code}:\n{log}");
        string collected = File.ReadAllText(output);
        foreach (string subject in (string[])["first", "second", "third"])
            Assert.Contains("Subject: " + subject + "\r\n", collected.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal));
        Assert.Contains("3 messages", log);
        Assert.Equal(0, new FileInfo(server.MailboxPath("alice")).Length); // every message deleted by the update

        (code, log) = await Task.Run(() => Fetchmail(server.Pop3Port, output));
        Assert.True(code == 1, $"a second run finds no mail (exit code 1), got {code}:\n{log}");
    }
}
