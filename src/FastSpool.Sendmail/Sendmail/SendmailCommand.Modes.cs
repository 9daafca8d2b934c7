using FastSpool.Posix;
using FastSpool.Users;

namespace FastSpool.Cli.Sendmail;

/// <summary>The modes other than delivery: -bs, -bv and newaliases (-bi).</summary>
internal sealed partial class SendmailCommand
{
    private const int SigHup = 1;

    /// <summary>-bs: SMTP on standard input and output, spoken by the server's own SMTP engine: the octets are
    /// relayed both ways over the submission socket, where the session knows the submitter's uid from the kernel.
    /// With no server running there is no one to speak it: a 421 on standard output, exit 75.</summary>
    private int RelaySmtp()
    {
        using Stream output = terminal.OpenOutput?.Invoke() ?? throw new InvalidOperationException("-bs needs standard output as octets");
        using LocalSmtpClient? client = Connect(out string why);
        if (client is null)
        {
            output.Write(System.Text.Encoding.ASCII.GetBytes($"421 4.3.0 {options.Smtp.Hostname} FastSpool is not running ({why}); try again later\r\n"));
            output.Flush();
            return Fail(ExitCode.TempFail, $"-bs: the server is not running ({why})");
        }
        using Stream input = OpenInput();
        _ = Task.Run(async () =>
        {
            try
            {
                await input.CopyToAsync(client.Stream).ConfigureAwait(false);
                client.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                // The server closed first (QUIT): what is left of the input has no one to read it.
            }
        });
        client.Stream.CopyTo(output, 4096);
        output.Flush();
        return ExitCode.Ok;
    }

    /// <summary>-bv: asks the server what would become of each address (VRFY on the submission socket, which tells
    /// a local user in full); nothing is sent. Exit 0 when every address is deliverable, else 67.</summary>
    private int Verify()
    {
        if (arguments.Recipients.Count == 0)
            return Fail(ExitCode.Usage, "-bv: name the addresses to verify");
        using LocalSmtpClient? client = Connect(out string why);
        if (client is null)
            return Fail(ExitCode.Unavailable, $"-bv asks the running server, and it is not running ({why})");
        SmtpReply reply = client.ReadReply();
        if (reply.Code != 220 || !(reply = client.Command("EHLO localhost")).Positive)
            return Fail(ExitCode.TempFail, "-bv: the server answered " + reply);
        int exitCode = ExitCode.Ok;
        foreach (string address in arguments.Recipients)
        {
            string qualified = address.Contains('@', StringComparison.Ordinal) || address.Equals("postmaster", StringComparison.OrdinalIgnoreCase)
                ? address : address + "@" + Origin;
            reply = client.Command($"VRFY <{qualified}>");
            string text = reply.Text;
            // "2.1.5 <a@b>: local mailbox a" is said as "a@b: local mailbox a".
            int close = text.IndexOf(">: ", StringComparison.Ordinal);
            string said = close >= 0 && text.IndexOf('<', StringComparison.Ordinal) is >= 0 and int open && open < close
                ? text[(open + 1)..close] + ": " + text[(close + 3)..]
                : qualified + ": " + text;
            terminal.Out.WriteLine(said);
            if (!reply.Positive)
                exitCode = reply.Transient ? ExitCode.TempFail : ExitCode.NoUser;
        }
        client.Command("QUIT");
        return exitCode;
    }

    /// <summary>newaliases (-bi): checks the aliases files as the server reads them, then has a running server read
    /// them again (SIGHUP, as after any configuration change). Exit 78 naming each problem; the server is not told
    /// of a file with problems.</summary>
    private int Newaliases()
    {
        var problems = new List<string>();
        int count;
        try
        {
            var aliases = new AliasTable(options.DataDirectory);
            problems.AddRange(aliases.Warnings);
            count = aliases.Names.Count;
            if (options.Users.System)
            {
                AliasTable system = AliasTable.FromFile(options.Users.SystemAliasesFile);
                problems.AddRange(system.Warnings);
                count += system.Names.Count;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(ExitCode.NoPermission, "newaliases: cannot read the aliases: " + e.Message);
        }
        if (problems.Count > 0)
        {
            foreach (string problem in problems)
                terminal.Error.WriteLine("newaliases: " + problem);
            return ExitCode.Config;
        }
        terminal.Out.WriteLine($"newaliases: {count} aliases, no problems");
        int? pid;
        try
        {
            pid = RunningServer();
        }
        catch (UnauthorizedAccessException)
        {
            return Fail(ExitCode.NoPermission, "newaliases: telling the server is for root and the server's user (the aliases are fine)");
        }
        if (pid is null)
        {
            terminal.Out.WriteLine("newaliases: the server is not running; it reads the aliases when it starts");
            return ExitCode.Ok;
        }
        int errno = Libc.Kill(pid.Value, SigHup);
        if (errno != 0)
            return Fail(ExitCode.NoPermission, $"newaliases: cannot signal the server (pid {pid}): {Libc.ErrorMessage(errno)}");
        terminal.Out.WriteLine($"newaliases: the server (pid {pid}) reads them again");
        return ExitCode.Ok;
    }

    /// <summary>The pid of the server that holds the data directory's lock, or null when none does. Read with a plain
    /// open(2): .NET's own open would ask for a share of the server's flock and fail.</summary>
    private int? RunningServer()
    {
        string path = Path.Combine(options.DataDirectory, "fastspool.pid");
        if (!Locked(path))
            return null;
        if (Libc.Open(path, OpenFlags.CloseOnExec, 0, out Microsoft.Win32.SafeHandles.SafeFileHandle? handle) != 0 || handle is null)
            return null;
        using (handle)
        {
            byte[] content = new byte[32];
            int read = RandomAccess.Read(handle, content, 0);
            return int.TryParse(System.Text.Encoding.ASCII.GetString(content, 0, read).Trim(), out int pid) && Libc.ProcessExists(pid) ? pid : null;
        }
    }

    /// <summary>Whether a server holds the lock on <paramref name="path"/> (the flock that FileShare.None takes).</summary>
    private static bool Locked(string path)
    {
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
            return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
