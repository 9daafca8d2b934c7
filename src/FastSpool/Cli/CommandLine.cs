using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using FastSpool.Configuration;

namespace FastSpool.Cli;

/// <summary>The <c>fastspool</c> command: one executable, one verb per job, parsed by System.CommandLine. Every verb
/// takes <c>--config FILE</c>, <c>--data DIR</c> and <c>--Section:Key=value</c> settings after its name. Exit
/// codes are sysexits(3)'s: 64 for bad arguments (with the verb's usage on standard error), 78 for a
/// configuration error (naming the key), 70 for a bug.</summary>
internal static class CommandLine
{
    private const int HelpWidth = 100;

    private const string Description =
        "FastSpool: a mail spool server (SMTP, a durable queue, local delivery) and the verbs that manage it. " +
        "Every verb also takes --config FILE, --data DIR and --Section:Key=value settings (e.g. --Smtp:Listen:0=0.0.0.0:25).";

    public static int Run(string[] args, Terminal terminal)
    {
        // sendmail's command line is not System.CommandLine's: it is parsed apart (see SendmailArguments).
        if (args.Length > 0 && args[0] == "sendmail")
            return Sendmail.SendmailCommand.Run(args[1..], Sendmail.SendmailMode.Deliver, terminal, Run);
        var settings = new List<string>();
        var context = new CliContext(terminal, settings);
        Command root = Build(context);
        List<string> rest = TakeSettings(args, OptionNames(root), settings);
        ParseResult result = root.Parse(rest, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (result.Action is ParseErrorAction)
            return UsageError(root, result, terminal);
        try
        {
            return result.Invoke(new InvocationConfiguration
            {
                Output = terminal.Out,
                Error = terminal.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // serve handles SIGTERM and SIGINT itself
            });
        }
        catch (Exception e)
        {
            terminal.Error.WriteLine("fastspool: internal error: " + e);
            return ExitCode.Software;
        }
    }

    private static Command Build(CliContext context)
    {
        var root = new Command("fastspool", Description)
        {
            new HelpOption { Action = new HelpAction { MaxWidth = HelpWidth } },
            new VersionOption { Action = new VersionAction() },
            context.Config,
            context.Data,
        };

        var serve = new Command("serve", "Run the server: SMTP, the queue, local delivery, and the control socket for the other verbs");
        serve.SetAction(result => context.TryLoadOptions(result, out FastSpoolOptions? options, out int exitCode, asLogLines: true)
            ? ServeCommand.RunAsync(options, () => context.ReloadOptions(result), context.Terminal.Error).GetAwaiter().GetResult()
            : exitCode);
        root.Subcommands.Add(serve);
        root.Subcommands.Add(CheckCommand.Create(context));
        // Listed for help only: Run hands sendmail's words to its own parser before System.CommandLine sees them.
        root.Subcommands.Add(new Command("sendmail", "Submit a message as sendmail(1) does: fastspool sendmail [-t] [-i] [-f sender] [-F name] "
            + "[-N dsn] [-R ret] [-V envid] [-v] [-bm|-bp|-bs|-bv|-bi] [-q|-qI id] [recipient ...]; also run as sendmail, mailq and newaliases through links"));
        root.Subcommands.Add(UserCommand.Create(context));
        root.Subcommands.Add(TlsCommand.Create(context));
        foreach (Command command in QueueCommands.Create(context))
            root.Subcommands.Add(command);

        var verbs = new Argument<string[]>("VERB") { Arity = ArgumentArity.ZeroOrMore };
        var help = new Command("help", "Show the usage of fastspool or of a verb") { verbs };
        help.Hidden = true;
        help.SetAction(result => Help(root, result.GetValue(verbs) ?? [], context));
        root.Subcommands.Add(help);
        return root;
    }

    /// <summary><c>fastspool help [VERB...]</c>, as sendmail-era users type it.</summary>
    private static int Help(Command root, string[] verbs, CliContext context)
    {
        Command command = root;
        foreach (string verb in verbs)
        {
            Command? sub = command.Subcommands.FirstOrDefault(c => c.Name == verb && !c.Hidden);
            if (sub is null)
                return context.Fail(ExitCode.Usage, $"help: no verb '{string.Join(' ', verbs)}'");
            command = sub;
        }
        return WriteHelp(root, verbs, context.Terminal.Out);
    }

    private static int UsageError(Command root, ParseResult result, Terminal terminal)
    {
        foreach (ParseError error in result.Errors)
            terminal.Error.WriteLine("fastspool: " + error.Message);
        terminal.Error.WriteLine();
        var path = new List<string>();
        for (SymbolResult? symbol = result.CommandResult; symbol is CommandResult { Parent: not null } command; symbol = symbol.Parent)
            path.Insert(0, command.Command.Name);
        WriteHelp(root, path, terminal.Error);
        return ExitCode.Usage;
    }

    /// <summary>The help of the verb at <paramref name="path"/>, written where asked: System.CommandLine's help
    /// writer is only reachable through its --help action.</summary>
    private static int WriteHelp(Command root, IReadOnlyList<string> path, TextWriter output) =>
        root.Parse([.. path, "--help"]).Invoke(new InvocationConfiguration { Output = output, Error = output });

    /// <summary>Moves the <c>--Section:Key=value</c> and <c>--Section:Key value</c> arguments (not our own options
    /// written <c>--data=DIR</c>) into <paramref name="settings"/>; what follows <c>--</c> is left alone. The rest is
    /// for the parser.</summary>
    private static List<string> TakeSettings(string[] args, HashSet<string> optionNames, List<string> settings)
    {
        var rest = new List<string>(args.Length);
        bool literal = false;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            literal |= arg == "--";
            if (!literal && Settings.IsKeyed(arg) && !optionNames.Contains(arg[..arg.IndexOfAny([':', '='])]))
            {
                if (arg.Contains('=') || i + 1 == args.Length)
                    settings.Add(arg);
                else
                    settings.Add(arg + "=" + args[++i]);
            }
            else if (!literal && arg.StartsWith("--", StringComparison.Ordinal) && !optionNames.Contains(arg)
                && OptionsSchema.IsKey(arg[2..]) && i + 1 < args.Length)
            {
                settings.Add(arg + "=" + args[++i]); // --LogLevel Warning
            }
            else
            {
                rest.Add(arg);
            }
        }
        return rest;
    }

    private static HashSet<string> OptionNames(Command command, HashSet<string>? names = null)
    {
        names ??= new HashSet<string>(StringComparer.Ordinal);
        foreach (Option option in command.Options)
        {
            names.Add(option.Name);
            names.UnionWith(option.Aliases);
        }
        foreach (Command sub in command.Subcommands)
            OptionNames(sub, names);
        return names;
    }
}
