using System.Diagnostics.CodeAnalysis;
using FastSpool.Users;

namespace FastSpool.Cli;

/// <summary><c>fastspool user add|del|passwd|list</c>: manages the users file. Exit codes are sysexits(3)'s.</summary>
internal static class UserCommand
{
    private const string PasswordStdin = "--password-stdin";
    private const string Usage =
        "usage: fastspool user add NAME [--password-stdin]\n" +
        "       fastspool user del NAME\n" +
        "       fastspool user passwd NAME --password-stdin\n" +
        "       fastspool user list";

    private const UnixFileMode PrivateDirectoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <param name="args">The arguments after the word <c>user</c>.</param>
    public static int Run(ReadOnlySpan<string> args, string dataDirectory, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (args.IsEmpty)
            return Fail(stderr, ExitCode.Usage, "user: missing command (add, del, passwd or list)", Usage);

        string verb = args[0];
        bool passwordAllowed = verb is "add" or "passwd";
        if (verb is not ("add" or "del" or "passwd" or "list"))
            return Fail(stderr, ExitCode.Usage, $"user: unknown command '{verb}' (expected add, del, passwd or list)", Usage);

        string? name = null;
        bool passwordFromStdin = false;
        foreach (string arg in args[1..])
        {
            if (passwordAllowed && arg == PasswordStdin)
                passwordFromStdin = true;
            else if (arg.StartsWith('-') && arg.Length > 1)
                return Fail(stderr, ExitCode.Usage, $"user {verb}: unknown option '{arg}'", Usage);
            else if (name is null && verb != "list")
                name = arg;
            else
                return Fail(stderr, ExitCode.Usage, $"user {verb}: unexpected argument '{arg}'", Usage);
        }

        if (verb == "list")
            return List(dataDirectory, stdout, stderr);
        if (name is null)
            return Fail(stderr, ExitCode.Usage, $"user {verb}: missing NAME", Usage);
        if (verb == "passwd" && !passwordFromStdin)
            return Fail(stderr, ExitCode.Usage, $"user passwd: {PasswordStdin} is required", Usage);
        if (!UserName.TryNormalize(name, out string? user))
        {
            return Fail(stderr, ExitCode.DataError,
                $"invalid user name '{name}' (1-64 characters of a-z 0-9 . _ -, starting with a letter or digit)");
        }

        try
        {
            CreateDataDirectory(dataDirectory);
            var store = new UserStore(dataDirectory);
            return verb switch
            {
                "add" => Add(store, user, passwordFromStdin, stdin, stdout, stderr),
                "del" => store.Remove(user)
                    ? Done(stdout, $"user '{user}' removed")
                    : Fail(stderr, ExitCode.DataError, $"user '{user}' does not exist"),
                _ => SetPassword(store, user, stdin, stdout, stderr),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TimeoutException)
        {
            return Fail(stderr, ExitCode.IoError, $"cannot update users in '{dataDirectory}': {e.Message}");
        }
    }

    private static int Add(UserStore store, string user, bool passwordFromStdin, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        // Checked again under the lock by Add; this only spares reading and hashing a password in vain.
        if (store.Contains(user))
            return Fail(stderr, ExitCode.DataError, $"user '{user}' already exists");
        string? hash = null;
        if (passwordFromStdin)
        {
            if (!TryReadPassword(stdin, stderr, out int exitCode, out string? password))
                return exitCode;
            hash = PasswordHasher.Hash(password);
        }
        if (!store.Add(user, hash))
            return Fail(stderr, ExitCode.DataError, $"user '{user}' already exists");
        return Done(stdout, hash is null ? $"user '{user}' added (no password: receives mail only)" : $"user '{user}' added");
    }

    private static int SetPassword(UserStore store, string user, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (!store.Contains(user))
            return Fail(stderr, ExitCode.DataError, $"user '{user}' does not exist");
        if (!TryReadPassword(stdin, stderr, out int exitCode, out string? password))
            return exitCode;
        if (!store.SetPassword(user, PasswordHasher.Hash(password)))
            return Fail(stderr, ExitCode.DataError, $"user '{user}' does not exist");
        return Done(stdout, $"password of user '{user}' changed");
    }

    private static int List(string dataDirectory, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            var store = new UserStore(dataDirectory);
            foreach (string warning in store.Warnings)
                stderr.WriteLine($"fastspool: warning: {warning}");
            foreach (string user in store.List())
                stdout.WriteLine(user);
            return ExitCode.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(stderr, ExitCode.IoError, $"cannot read users in '{dataDirectory}': {e.Message}");
        }
    }

    private static bool TryReadPassword(TextReader stdin, TextWriter stderr, out int exitCode, [NotNullWhen(true)] out string? password)
    {
        password = stdin.ReadLine();
        exitCode = password switch
        {
            null => Fail(stderr, ExitCode.DataError, "no password on standard input"),
            "" => Fail(stderr, ExitCode.DataError, "empty password on standard input"),
            _ => ExitCode.Ok,
        };
        return exitCode == ExitCode.Ok;
    }

    private static void CreateDataDirectory(string dataDirectory)
    {
        if (Directory.Exists(dataDirectory))
            return;
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(dataDirectory);
        else
            Directory.CreateDirectory(dataDirectory, PrivateDirectoryMode);
    }

    private static int Done(TextWriter stdout, string message)
    {
        stdout.WriteLine($"fastspool: {message}");
        return ExitCode.Ok;
    }

    private static int Fail(TextWriter stderr, int exitCode, string message, string? usage = null)
    {
        stderr.WriteLine($"fastspool: {message}");
        if (usage is not null)
            stderr.WriteLine(usage);
        return exitCode;
    }
}
