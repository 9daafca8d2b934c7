using System.Diagnostics;

namespace FastSpool.Cli.Sendmail;

/// <summary>How sendmail starts, in the <c>fastspool</c> command and in the native client alike: the mode from the
/// name the program was run by, and, for the native client, the <c>fastspool</c> program beside it for the verbs
/// that need the admin socket's client.</summary>
internal static class SendmailEntry
{
    /// <summary>The name of the full command, installed beside the native client.</summary>
    public const string FullCommand = "fastspool";

    /// <summary>The mode of a program run as <c>sendmail</c>, <c>mailq</c> or <c>newaliases</c>; null for any
    /// other name.</summary>
    public static SendmailMode? ModeOf(string invokedName) => invokedName switch
    {
        "sendmail" => SendmailMode.Deliver,
        "newaliases" => SendmailMode.Newaliases,
        "mailq" => SendmailMode.ListQueue,
        _ => null,
    };

    /// <summary>The name the program was run by (argv[0], as /proc gives it: a link's own name, where the process
    /// path would name the link's target).</summary>
    public static string InvokedName()
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
            return FullCommand;
        }
    }

    /// <summary>The native client's <see cref="AdminVerb"/>: runs <c>fastspool VERB ...</c> from the directory of
    /// this program (links resolved), with the same standard input, output and error, and returns its exit code.</summary>
    public static int RunFullCommand(string[] args, Terminal terminal)
    {
        string program = Path.Combine(AppContext.BaseDirectory, FullCommand);
        if (!File.Exists(program))
        {
            terminal.Error.WriteLine($"sendmail: {args[0]} is done by the {FullCommand} command, which is not at {program}");
            return ExitCode.Unavailable;
        }
        var start = new ProcessStartInfo(program) { UseShellExecute = false };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        using Process process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
