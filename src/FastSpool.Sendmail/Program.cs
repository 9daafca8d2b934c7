using FastSpool.Cli;
using FastSpool.Cli.Sendmail;

// The native sendmail client: run as sendmail (by any name but mailq and newaliases), mailq or newaliases.
return SendmailCommand.Run(args, SendmailEntry.ModeOf(SendmailEntry.InvokedName()) ?? SendmailMode.Deliver, Terminal.Console,
    SendmailEntry.RunFullCommand);
