using FastSpool.Cli.Sendmail;

namespace FastSpool.Cli;

/// <summary>Where the program starts: called through a link named <c>sendmail</c>, <c>mailq</c> or
/// <c>newaliases</c>, FastSpool acts as that program; otherwise it is the <c>fastspool</c> command. Apart from
/// <see cref="CommandLine"/> so that a sendmail run, which programs start once per message, does not load
/// System.CommandLine and build every verb first.</summary>
internal static class Entry
{
    public static int Run(string[] args)
    {
        SendmailMode? mode = InvokedName() switch
        {
            "sendmail" => SendmailMode.Deliver,
            "newaliases" => SendmailMode.Newaliases,
            "mailq" => SendmailMode.ListQueue,
            _ => null,
        };
        if (mode is null && args.Length > 0 && args[0] == "sendmail")
            return SendmailCommand.Run(args[1..], SendmailMode.Deliver, Terminal.Console);
        return mode is { } m ? SendmailCommand.Run(args, m, Terminal.Console) : CommandLine.Run(args, Terminal.Console);
    }

    /// <summary>The name the program was run by (argv[0], as /proc gives it: a link's own name, where the process
    /// path would name the link's target).</summary>
    private static string InvokedName()
    {
        try
        {
            byte[] commandLine = File.ReadAllBytes("/proc/self/cmdline");
            int end = Array.IndexOf(commandLine, (byte)0);
            string argv0 = System.Text.Encoding.UTF8.GetString(commandLine, 0, end < 0 ? commandLine.Length : end);
            return Path.GetFileName(argv0);
        }
        catch (IOException)
        {
            return "fastspool";
        }
    }
}
