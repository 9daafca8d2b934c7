using System.CommandLine;
using System.CommandLine.Parsing;
using FastSpool.Delivery.Control;
using FastSpool.Queue;
using FastSpool.Server.Admin;

namespace FastSpool.Cli;

/// <summary>The verbs that look into and change the running server's queue, through its control socket:
/// <c>mailq</c>, <c>flush</c>, <c>hold</c>, <c>release</c>, <c>requeue</c>, <c>delete</c>, <c>queue show</c>.
/// Ids are checked here before anything is sent (a bad one is a usage error, 64); an id the queue does not hold
/// is named on standard error and makes the exit code 66 (EX_NOINPUT), after the others were acted on.</summary>
internal static class QueueCommands
{
    private const string IdDescription = "Queue ids as mailq shows them (without the ! or *)";

    public static IEnumerable<Command> Create(CliContext context) =>
    [
        Mailq(context),
        Control(context, "flush", "Try the deferred recipients of the named messages (all messages without IDs) now", "flushed", ArgumentArity.ZeroOrMore),
        Control(context, "hold", "Stop delivering messages until they are released", "placed on hold", ArgumentArity.OneOrMore),
        Control(context, "release", "Deliver held messages again", "released from hold", ArgumentArity.OneOrMore),
        Control(context, "requeue", "Try messages again now, with their backoff reset (releases held ones)", "requeued", ArgumentArity.OneOrMore),
        Delete(context),
        Queue(context),
    ];

    private static Command Mailq(CliContext context)
    {
        var json = new Option<bool>("--json") { Description = "One JSON object per line per message, like postqueue -j" };
        var command = new Command("mailq", "List the queue: id (! held, * being delivered), size, arrival, sender, and the recipients not yet done") { json };
        command.SetAction((result, cancellationToken) => context.WithServerAsync(result, async client =>
        {
            QueueListing listing = await client.ListAsync(cancellationToken);
            context.Terminal.Out.Write(result.GetValue(json)
                ? MailqFormatter.JsonLines(listing.Messages)
                : MailqFormatter.Text(listing.Messages, TimeZoneInfo.Local));
            return ExitCode.Ok;
        }));
        return command;
    }

    private static Command Control(CliContext context, string verb, string description, string done, ArgumentArity arity)
    {
        if (arity.MinimumNumberOfValues == 0)
        {
            // flush: no ids means every message.
            Argument<string[]> any = Ids(arity);
            var flush = new Command(verb, description) { any };
            flush.SetAction((result, cancellationToken) =>
                ActAsync(context, result, verb, new ControlRequest(Canonical(result.GetValue(any))), done, cancellationToken));
            return flush;
        }
        // hold, release, requeue: ids, or --all (postsuper's ALL).
        Argument<string[]> ids = Ids(ArgumentArity.ZeroOrMore);
        var all = new Option<bool>("--all") { Description = "Every message in the queue" };
        var command = new Command(verb, description) { ids, all };
        command.Validators.Add(result =>
        {
            // The ids' tokens, not GetValue: converting the argument here would drop its own validator's errors.
            if ((result.GetResult(ids)?.Tokens.Count > 0) == result.GetValue(all))
                result.AddError($"{verb}: give IDs or --all (one of them)");
        });
        command.SetAction((result, cancellationToken) =>
            ActAsync(context, result, verb, new ControlRequest(Canonical(result.GetValue(ids)), result.GetValue(all)), done, cancellationToken));
        return command;
    }

    private static Command Delete(CliContext context)
    {
        Argument<string[]> ids = Ids(ArgumentArity.ZeroOrMore);
        var bounce = new Option<bool>("--bounce") { Description = "Notify the senders of the recipients not yet done (a non-delivery report)" };
        var all = new Option<bool>("--all") { Description = "Every message in the queue" };
        var allDeferred = new Option<bool>("--all-deferred") { Description = "Every message with a deferred recipient" };
        var command = new Command("delete", "Remove messages from the queue for good") { ids, bounce, all, allDeferred };
        command.Validators.Add(result =>
        {
            int selections = (result.GetResult(ids)?.Tokens.Count > 0 ? 1 : 0) + (result.GetValue(all) ? 1 : 0) + (result.GetValue(allDeferred) ? 1 : 0);
            if (selections != 1)
                result.AddError("delete: give IDs, --all or --all-deferred (one of them)");
        });
        command.SetAction((result, cancellationToken) =>
        {
            bool notify = result.GetValue(bounce);
            var request = new ControlRequest(Canonical(result.GetValue(ids)), result.GetValue(all), result.GetValue(allDeferred), notify);
            return ActAsync(context, result, "delete", request, notify ? "deleted, sender notified" : "deleted", cancellationToken);
        });
        return command;
    }

    private static Command Queue(CliContext context)
    {
        var id = new Argument<string>("ID") { Description = IdDescription };
        id.Validators.Add(CheckIds);
        var show = new Command("show", "One message: its envelope, each recipient with its state and history, its headers") { id };
        show.SetAction((result, cancellationToken) => context.WithServerAsync(result, async client =>
        {
            MessageDetails details = await client.ShowAsync(Canonical([result.GetValue(id)!])[0], cancellationToken);
            context.Terminal.Out.Write(MessageFormatter.Text(details, TimeZoneInfo.Local));
            return ExitCode.Ok;
        }));
        return new Command("queue", "Look into the queue") { show };
    }

    /// <summary>Sends the request; prints a line per id acted on (standard output) and per unknown id (standard error).</summary>
    private static Task<int> ActAsync(CliContext context, ParseResult result, string verb, ControlRequest request, string done, CancellationToken cancellationToken) =>
        context.WithServerAsync(result, async client =>
        {
            ControlResult answer = await client.ControlAsync(verb, request, cancellationToken);
            foreach (string id in answer.Done)
                context.Terminal.Out.WriteLine($"{id}: {done}");
            foreach (string id in answer.Unknown)
                context.Terminal.Error.WriteLine($"fastspool: {id}: no such message in the queue");
            return answer.Unknown.Count == 0 ? ExitCode.Ok : ExitCode.NoInput;
        });

    private static Argument<string[]> Ids(ArgumentArity arity)
    {
        var ids = new Argument<string[]>("ID") { Arity = arity, Description = IdDescription };
        ids.Validators.Add(CheckIds);
        return ids;
    }

    private static void CheckIds(ArgumentResult result)
    {
        foreach (Token token in result.Tokens)
        {
            if (!QueueId.TryParse(token.Value, out _))
                result.AddError($"'{token.Value}' is not a queue id (1-16 hex digits)");
        }
    }

    /// <summary>Ids as the queue shows them: 13 upper-case hex digits.</summary>
    private static string[] Canonical(string[]? ids)
    {
        if (ids is null)
            return [];
        string[] canonical = new string[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            // Checked by the argument's validator before any action runs.
            canonical[i] = QueueId.TryParse(ids[i], out QueueId id) ? id.ToString() : ids[i];
        }
        return canonical;
    }
}
