using FastSpool.Configuration;

namespace FastSpool.Cli;

/// <summary>The <c>fastspool</c> command: one executable, one verb per job.</summary>
internal static class CommandLine
{
    private const string Usage = """
        usage: fastspool VERB [--config FILE] [--data DIR] [--Section:Key=value ...]
          serve                               run the server (SMTP, queue, local delivery)
          user add NAME [--password-stdin]    add a user (a mailbox; the password is for POP3/AUTH)
          user passwd NAME --password-stdin   set a user's password
          user del NAME                       remove a user
          user list                           list the users
        """;

    public static int Run(string[] argv)
    {
        var args = new List<string>(argv);
        if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
        {
            (args.Count == 0 ? Console.Error : Console.Out).WriteLine(Usage);
            return args.Count == 0 ? ExitCode.Usage : ExitCode.Ok;
        }
        string verb = args[0];
        args.RemoveAt(0);
        FastSpoolOptions options;
        try
        {
            options = Settings.Load(args);
        }
        catch (SettingsException e)
        {
            Console.Error.WriteLine("fastspool: configuration error: " + e.Message);
            return ExitCode.Config;
        }
        switch (verb)
        {
            case "serve":
                if (args.Count > 0)
                    return UsageError($"serve: unexpected argument '{args[0]}'");
                return ServeCommand.RunAsync(options).GetAwaiter().GetResult();
            case "user":
                return UserCommand.Run(args.ToArray(), options.DataDirectory, Console.In, Console.Out, Console.Error);
            default:
                return UsageError($"unknown verb '{verb}'");
        }
    }

    private static int UsageError(string message)
    {
        Console.Error.WriteLine("fastspool: " + message);
        Console.Error.WriteLine(Usage);
        return ExitCode.Usage;
    }
}
