using FastSpool.Bench.Runs;

namespace FastSpool.Bench.Cli;

/// <summary>The <c>fastspool-bench</c> command: <c>smtp</c> (load), <c>idle</c> (many open sessions) or
/// <c>sendmail</c> (a sendmail command run many times).</summary>
internal static class BenchCommand
{
    public const string Usage = """
        usage: fastspool-bench smtp --to ADDRESS [options]   send mail as fast as the server takes it
               fastspool-bench idle [options]                open many sessions and keep them idle
               fastspool-bench sendmail --command PATH --to ADDRESS [options]
                                                             run a sendmail command many times
               fastspool-bench pop3 --users U1,U2 --password P [options]   drain maildrops: RETR, DELE, QUIT

        smtp:
          --server HOST:PORT        the server (default 127.0.0.1:2525)
          --connections N           concurrent sessions (default 10)
          --messages M              messages in all, shared by the sessions (default 1000)
          --size SIZE               body bytes, suffix KiB/MiB allowed (default 10KiB)
          --size-mix SIZE:W,...     weighted body sizes instead, e.g. 1KiB:70,10KiB:25,100KiB:5
          --to ADDRESS              the recipient (required)
          --from ADDRESS            the sender (default bench@example.org)
          --reuse                   next MAIL on the same connection (default: a connection per message)
          --helo                    HELO instead of EHLO, as smtp-source does
          --pipelining              MAIL, RCPT and DATA in one write when PIPELINING is offered
          --bdat                    the message as one BDAT n LAST when CHUNKING is offered
          --starttls                STARTTLS after EHLO, then EHLO again, on every new connection
          --implicit-tls            TLS from the first octet (a port 465 listener)
          --trust FILE              a PEM certificate to trust besides the system's roots (a self-signed server)
          --tls-host NAME           the name the certificate must carry (default localhost)
          --auth USER:PASSWORD      AUTH PLAIN on every new connection
          --until-delivered PATH    then wait until the mbox (or directory) PATH has gained the accepted messages
          --timeout DURATION        longest wait for a reply, and for delivery (default 300s)
          --server-pid PID          report the server's CPU seconds and peak RSS
          --server-log FILE         report what a FastSpool server allocated per accepted message, from the
                                    statistics lines of its log before and after the run (start it with
                                    --StatisticsInterval=00:00:01 so that the run waits at most a second for each)
          --json FILE               also write the figures as JSON

        idle:
          --server HOST:PORT        the server (default 127.0.0.1:2525)
          --connections N           sessions to open (default 1000); raise `ulimit -n` beyond the hard limit
          --hold DURATION           how long to keep them open (default 30s)
          --concurrency N           connects in flight at once (default 200)
          --timeout DURATION        longest wait for a connect or reply (default 60s)
          --json FILE               also write the figures as JSON

        sendmail:
          --command PATH            the sendmail program (FastSpool's link, or Postfix's /usr/sbin/sendmail)
          --env NAME=VALUE          a variable for it, e.g. FASTSPOOL_CONFIG=... or MAIL_CONFIG=... (repeatable)
          --to ADDRESS              the recipient (required); each run is: PATH -i ADDRESS < message
          --processes N             invocations at once (default 4)
          --messages M              invocations by each, one after the other (default 100)
          --size SIZE               body bytes (default 1KiB), LF line ends as programs write them
          --until-delivered PATH    then wait until the mbox (or directory) PATH has gained every message
          --timeout DURATION        longest wait for one invocation, and for delivery (default 300s)

        pop3:
          --server HOST:PORT        the POP3 server (default 127.0.0.1:1110)
          --users U1,U2,...         the users whose maildrops are drained, one session each (required)
          --password P              their password (required)
          --connections N           sessions at once (default 10)
          --timeout DURATION        longest run (default 300s)
          --server-pid PID          report the server's CPU seconds and peak RSS

        exit status: 0 all well, 1 errors or timeout, 64 bad usage
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, bool overwriteProgress)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            (args.Length == 0 ? error : output).WriteLine(Usage);
            return args.Length == 0 ? ExitCodes.Usage : ExitCodes.Ok;
        }
        try
        {
            switch (args[0])
            {
                case "smtp":
                    return await SmtpBench.RunAsync(OptionParser.ParseSmtp(args[1..]), output, error, overwriteProgress);
                case "pop3":
                    return await Pop3Bench.RunAsync(OptionParser.ParsePop3(args[1..]), output, error);
                case "idle":
                    return await IdleBench.RunAsync(OptionParser.ParseIdle(args[1..]), output, error, overwriteProgress);
                case "sendmail":
                    return await SendmailBench.RunAsync(OptionParser.ParseSendmail(args[1..]), output, error);
                default:
                    throw new UsageException($"{args[0]}: unknown mode (smtp, idle, sendmail or pop3)");
            }
        }
        catch (UsageException e)
        {
            error.WriteLine("fastspool-bench: " + e.Message);
            error.WriteLine("fastspool-bench --help lists the options");
            return ExitCodes.Usage;
        }
    }
}
