using FastSpool.Server.Tests.Support;
using FastSpool.Users;

namespace FastSpool.Server.Tests.Cli;

/// <summary><c>--password-stdin</c> at a terminal: the built executable on a pseudo-terminal (Python's pty module)
/// prompts and reads the password without echoing it.</summary>
public sealed class PasswordPromptTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "fastspool-pty-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    private const string Script = """
        import os, pty, sys, select, termios, time
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp(sys.argv[1], sys.argv[1:])
        seen = b''
        deadline = time.time() + 60
        def read_until(marker):
            global seen
            while marker not in seen and time.time() < deadline:
                r, _, _ = select.select([fd], [], [], 1)
                if r:
                    try:
                        chunk = os.read(fd, 1024)
                    except OSError:
                        return
                    if not chunk:
                        return
                    seen += chunk
        read_until(b'Password: ')
        # Typed once the program reads keys: the terminal's own echo is then off.
        while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < deadline:
            time.sleep(0.01)
        os.write(fd, b's3cret-typed\r')
        read_until(b'added')
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(seen.decode('utf-8', 'replace'))
        sys.exit(os.waitstatus_to_exitcode(status))
        """;

    [Fact]
    public async Task AtATerminalThePasswordIsPromptedForAndNotEchoed()
    {
        CliResult result = await ChildProcess.RunAsync("python3", ["-c", Script, "dotnet", ChildProcess.FastSpoolDll,
            "user", "add", "carol", "--password-stdin", "--data", _data], TimeSpan.FromSeconds(90));
        string terminal = result.Out;
        Assert.True(result.Code == 0, terminal + result.Error);
        Assert.Contains("Password: ", terminal);
        Assert.DoesNotContain("s3cret", terminal);
        Assert.Contains("fastspool: user 'carol' added", terminal);
        Assert.True(new UserStore(_data).TryGetPasswordHash("carol", out string? hash));
        Assert.True(PasswordHasher.Verify("s3cret-typed", hash));
    }
}
