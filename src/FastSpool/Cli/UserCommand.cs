using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using FastSpool.Configuration;
using FastSpool.Posix;
using FastSpool.Sasl;
using FastSpool.Users;

namespace FastSpool.Cli;

/// <summary><c>fastspool user add|del|passwd|list</c>: manages the users file. Exit codes are sysexits(3)'s.</summary>
internal static class UserCommand
{
    public static Command Create(CliContext context)
    {
        var addName = Name();
        var addPassword = PasswordStdin("Read the password (for POP3 and AUTH) from the first line of standard input; without it the user only receives mail");
        var add = new Command("add", "Add a user: a mailbox, and a password for POP3/AUTH") { addName, addPassword };
        add.SetAction(result => WithUser(context, result, result.GetValue(addName)!, (store, user) =>
            Add(store, user, result.GetValue(addPassword), context)));

        var delName = Name();
        var del = new Command("del", "Remove a user") { delName };
        del.SetAction(result => WithUser(context, result, result.GetValue(delName)!, (store, user) => store.Remove(user)
            ? Done(context, $"user '{user}' removed")
            : context.Fail(ExitCode.DataError, $"user '{user}' does not exist")));

        var passwdName = Name();
        var passwdPassword = PasswordStdin("Read the new password from the first line of standard input");
        var passwd = new Command("passwd", "Set a user's password") { passwdName, passwdPassword };
        passwd.Validators.Add(result =>
        {
            if (!result.GetValue(passwdPassword))
                result.AddError("user passwd: --password-stdin is required");
        });
        passwd.SetAction(result => WithUser(context, result, result.GetValue(passwdName)!, (store, user) =>
            SetPassword(store, user, context)));

        var list = new Command("list", "List the users, and whether each has a password");
        list.SetAction(result => context.TryLoadOptions(result, out FastSpoolOptions? options, out int exitCode)
            ? List(options.DataDirectory, context)
            : exitCode);

        return new Command("user", "Manage the users file (DataDirectory/users)") { add, del, passwd, list };
    }

    private static Argument<string> Name() => new("NAME") { Description = "1-64 characters of a-z 0-9 . _ -, starting with a letter or digit" };

    private static Option<bool> PasswordStdin(string description) => new("--password-stdin") { Description = description };

    /// <summary>Checks the name, then runs <paramref name="action"/> on the users file of the configured data directory.</summary>
    private static int WithUser(CliContext context, ParseResult result, string name, Func<UserStore, string, int> action)
    {
        if (!context.TryLoadOptions(result, out FastSpoolOptions? options, out int exitCode))
            return exitCode;
        if (!UserName.TryNormalize(name, out string? user))
        {
            return context.Fail(ExitCode.DataError,
                $"invalid user name '{name}' (1-64 characters of a-z 0-9 . _ -, starting with a letter or digit)");
        }
        string dataDirectory = options.DataDirectory;
        try
        {
            CreateDataDirectory(dataDirectory);
            return action(new UserStore(dataDirectory), user);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TimeoutException)
        {
            return context.Fail(ExitCode.IoError, $"cannot update users in '{dataDirectory}': {e.Message}");
        }
    }

    private static int Add(UserStore store, string user, bool passwordFromStdin, CliContext context)
    {
        // Checked again under the lock by Add; this only spares reading and hashing a password in vain.
        if (store.Contains(user))
            return context.Fail(ExitCode.DataError, $"user '{user}' already exists");
        string? hash = null;
        if (passwordFromStdin)
        {
            if (!TryReadPassword(context, out int exitCode, out string? password))
                return exitCode;
            hash = PasswordHasher.Hash(password);
        }
        if (!store.Add(user, hash))
            return context.Fail(ExitCode.DataError, $"user '{user}' already exists");
        return Done(context, hash is null ? $"user '{user}' added (no password: receives mail only)" : $"user '{user}' added");
    }

    private static int SetPassword(UserStore store, string user, CliContext context)
    {
        if (!store.Contains(user))
            return context.Fail(ExitCode.DataError, $"user '{user}' does not exist");
        if (!TryReadPassword(context, out int exitCode, out string? password))
            return exitCode;
        if (!store.SetPassword(user, PasswordHasher.Hash(password)))
            return context.Fail(ExitCode.DataError, $"user '{user}' does not exist");
        return Done(context, $"password of user '{user}' changed");
    }

    private static int List(string dataDirectory, CliContext context)
    {
        try
        {
            var store = new UserStore(dataDirectory);
            foreach (string warning in store.Warnings)
                context.Terminal.Error.WriteLine($"fastspool: warning: {warning}");
            IReadOnlyList<string> users = store.List();
            int width = users.Count == 0 ? 0 : users.Max(u => u.Length);
            foreach (string user in users)
                context.Terminal.Out.WriteLine($"{user.PadRight(width)}  {(store.TryGetPasswordHash(user, out _) ? "password" : "no password")}");
            return ExitCode.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return context.Fail(ExitCode.IoError, $"cannot read users in '{dataDirectory}': {e.Message}");
        }
    }

    private static bool TryReadPassword(CliContext context, out int exitCode, [NotNullWhen(true)] out string? password)
    {
        password = context.Terminal.ReadSecret is { } prompt ? prompt("Password: ") : context.Terminal.In.ReadLine();
        exitCode = password switch
        {
            null => context.Fail(ExitCode.DataError, "no password on standard input"),
            "" => context.Fail(ExitCode.DataError, "empty password on standard input"),
            _ => ExitCode.Ok,
        };
        if (exitCode != ExitCode.Ok)
            return false;
        // Stored in its SASLprep form (RFC 4013), as SCRAM clients derive their keys from it and the server prepares
        // what PLAIN, LOGIN and POP3 clients send; as a stored string, unassigned code points are refused (RFC 3454 §7).
        password = SaslPrep.Prepare(password!, out SaslPrepResult prepared, stored: true);
        if (password is null || password.Length == 0)
        {
            exitCode = context.Fail(ExitCode.DataError, password is null
                ? $"the password cannot be used: {prepared} (SASLprep, RFC 4013)"
                : "the password is empty after SASLprep (RFC 4013): it has only characters that are mapped to nothing");
            password = null;
            return false;
        }
        return true;
    }

    private static void CreateDataDirectory(string dataDirectory)
    {
        if (Directory.Exists(dataDirectory))
            return;
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(dataDirectory);
        else
            Directory.CreateDirectory(dataDirectory, PrivateModes.Directory);
    }

    private static int Done(CliContext context, string message)
    {
        context.Terminal.Out.WriteLine($"fastspool: {message}");
        return ExitCode.Ok;
    }
}
