using FastSpool.Cli.Sendmail;

namespace FastSpool.Cli;

/// <summary>Where the program starts: called through a link named <c>sendmail</c>, <c>mailq</c> or
/// <c>newaliases</c>, FastSpool acts as that program; otherwise it is the <c>fastspool</c> command. Apart from
/// <see cref="CommandLine"/> so that a sendmail run, which programs start once per message, does not load
/// System.CommandLine and build every verb first. (The native client, fastspool-sendmail, starts faster still.)</summary>
internal static class Entry
{
    public static int Run(string[] args)
    {
        SendmailMode? mode = SendmailEntry.ModeOf(SendmailEntry.InvokedName());
        if (mode is null && args.Length > 0 && args[0] == "sendmail")
            return SendmailCommand.Run(args[1..], SendmailMode.Deliver, Terminal.Console, CommandLine.Run);
        return mode is { } m ? SendmailCommand.Run(args, m, Terminal.Console, CommandLine.Run) : CommandLine.Run(args, Terminal.Console);
    }
}
