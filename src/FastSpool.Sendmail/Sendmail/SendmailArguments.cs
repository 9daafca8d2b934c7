using FastSpool.Protocols.Smtp;

namespace FastSpool.Cli.Sendmail;

/// <summary>The command line of <c>sendmail</c>, as sendmail(8) and Postfix's sendmail(1) take it. Its grammar is
/// not the POSIX-and-GNU one that System.CommandLine parses: values stick to their letter (<c>-fme@host</c>,
/// <c>-odb</c>, <c>-oQ/var/spool</c>, <c>-qIid</c>), <c>-o</c> and <c>-b</c> take a sub-letter, flags combine
/// (<c>-ti</c>), and the first word that is not an option ends the options. Programs pass these exact spellings,
/// so a small parser of our own parses exactly them; anything unknown is an error naming it (exit 64).</summary>
internal sealed class SendmailArguments
{
    public SendmailMode Mode { get; private set; } = SendmailMode.Deliver;

    /// <summary><c>-t</c>: recipients from To, Cc and Bcc too.</summary>
    public bool RecipientsFromHeaders { get; private set; }

    /// <summary><c>-i</c>, <c>-oi</c>: a line holding a single dot does not end the message.</summary>
    public bool IgnoreDots { get; private set; }

    /// <summary><c>-f</c>, <c>-r</c>: the envelope sender; null for the invoking user. Empty for the null sender.</summary>
    public string? Sender { get; private set; }

    /// <summary><c>-F</c>: the full name for a From: header that sendmail adds.</summary>
    public string? FullName { get; private set; }

    /// <summary><c>-N</c>: RFC 3461 NOTIFY for every recipient.</summary>
    public DsnNotify Notify { get; private set; }

    /// <summary><c>-R</c>: RFC 3461 RET.</summary>
    public DsnReturn Return { get; private set; }

    /// <summary><c>-V</c>: RFC 3461 ENVID.</summary>
    public string? EnvelopeId { get; private set; }

    /// <summary><c>-v</c>: say what happens on standard error.</summary>
    public bool Verbose { get; private set; }

    /// <summary><c>-qI</c>: the queue id to flush; null for all.</summary>
    public string? FlushId { get; private set; }

    /// <summary>The words after the options: recipients (or, for -bv, addresses to verify).</summary>
    public List<string> Recipients { get; } = [];

    /// <summary>FastSpool's own <c>--config FILE</c>, <c>--data DIR</c> and <c>--Section:Key=value</c>, kept for
    /// the settings.</summary>
    public List<string> Settings { get; } = [];

    /// <summary>Options that programs pass and that mean nothing here, as they were given (for -v).</summary>
    public List<string> Ignored { get; } = [];

    /// <summary>Parses <paramref name="args"/>; null and <paramref name="error"/> on a word it does not take.</summary>
    public static SendmailArguments? Parse(IReadOnlyList<string> args, SendmailMode mode, out string? error)
    {
        var parsed = new SendmailArguments { Mode = mode };
        error = parsed.ParseAll(args);
        return error is null ? parsed : null;
    }

    private string? ParseAll(IReadOnlyList<string> args)
    {
        int i = 0;
        while (i < args.Count)
        {
            string arg = args[i++];
            if (arg == "--")
                break;
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                // FastSpool's own settings, for a sendmail given a configuration on its command line.
                if (arg is "--config" or "--data")
                {
                    if (i >= args.Count)
                        return arg + " needs a value";
                    Settings.Add(arg + "=" + args[i++]);
                }
                else if (arg.StartsWith("--config=", StringComparison.Ordinal) || arg.StartsWith("--data=", StringComparison.Ordinal) || Cli.Settings.IsKeyed(arg))
                {
                    Settings.Add(arg);
                }
                else
                {
                    return $"unknown option {arg}";
                }
                continue;
            }
            if (arg.Length < 2 || arg[0] != '-')
            {
                i--;
                break;
            }
            if (Letters(arg, args, ref i) is { } error)
                return error;
        }
        for (; i < args.Count; i++)
            Recipients.Add(args[i]);
        return null;
    }

    /// <summary>One option word. Letters that stand alone may be combined (<c>-ti</c>); one that takes a value
    /// takes the rest of the word, or the next word.</summary>
    private string? Letters(string arg, IReadOnlyList<string> args, ref int i)
    {
        for (int c = 1; c < arg.Length; c++)
        {
            char letter = arg[c];
            string rest = arg[(c + 1)..];
            switch (letter)
            {
                case 't':
                    RecipientsFromHeaders = true;
                    continue;
                case 'i':
                    IgnoreDots = true;
                    continue;
                case 'v':
                    Verbose = true;
                    continue;
                case 'U':
                case 'n':
                    Ignored.Add("-" + letter);
                    continue;
                case 'b':
                    return SetMode(rest);
                case 'o':
                    return Option(rest, args, ref i);
                case 'q':
                    return Queue(rest, args, ref i);
                case 'L' when rest.Length == 0 && (i >= args.Count || args[i].StartsWith('-')):
                    Ignored.Add("-L");
                    continue;
            }
            if (letter is not ('f' or 'r' or 'F' or 'N' or 'R' or 'V' or 'B' or 'C' or 'L'))
                return $"unknown option -{letter}";
            string? value = rest.Length > 0 ? rest : i < args.Count ? args[i++] : null;
            if (value is null)
                return $"-{letter} needs a value";
            string error = letter switch
            {
                'f' or 'r' => SetSender(value),
                'F' => Plain(value, "-F") ?? Set(() => FullName = value),
                'N' => SetNotify(value),
                'R' => SetReturn(value),
                'V' => value.Length is 0 or > 100 || value.AsSpan().ContainsAnyExceptInRange(' ', '~')
                    ? "-V: the envelope id must be 1 to 100 printable ASCII characters (RFC 3461 ENVID)"
                    : Set(() => EnvelopeId = value),
                _ => Set(() => Ignored.Add($"-{letter} {value}")),
            };
            return error.Length > 0 ? error : null;
        }
        return null;
    }

    private static string Set(Action action)
    {
        action();
        return "";
    }

    private string? SetMode(string mode)
    {
        switch (mode)
        {
            case "m":
                Mode = SendmailMode.Deliver;
                return null;
            case "p":
                Mode = SendmailMode.ListQueue;
                return null;
            case "s":
                Mode = SendmailMode.Smtp;
                return null;
            case "v":
                Mode = SendmailMode.Verify;
                return null;
            case "i":
                Mode = SendmailMode.Newaliases;
                return null;
            default:
                return mode.Length == 0 ? "-b needs a mode (m, p, s, v or i)"
                    : $"-b{mode} is not supported (FastSpool takes -bm, -bp, -bs, -bv and -bi; the server runs as 'fastspool serve')";
        }
    }

    private string? Option(string option, IReadOnlyList<string> args, ref int i)
    {
        switch (option)
        {
            case "i":
                IgnoreDots = true;
                return null;
            case "db" or "di" or "dq" or "em" or "ep" or "eq" or "m":
                Ignored.Add("-o" + option);
                return null;
            case "Q":
                // -oQ takes a queue directory: ours is the data directory's.
                if (i >= args.Count)
                    return "-oQ needs a value";
                Ignored.Add("-oQ " + args[i++]);
                return null;
            default:
                if (option.StartsWith('Q'))
                {
                    Ignored.Add("-o" + option);
                    return null;
                }
                return option.Length == 0 ? "-o needs an option letter" : $"unknown option -o{option}";
        }
    }

    private string? Queue(string rest, IReadOnlyList<string> args, ref int i)
    {
        Mode = SendmailMode.Flush;
        if (rest.Length == 0)
            return null;
        if (rest[0] == 'I')
        {
            string? id = rest.Length > 1 ? rest[1..] : i < args.Count ? args[i++] : null;
            if (string.IsNullOrEmpty(id) || !global::FastSpool.Queue.QueueId.TryParse(id, out _))
                return $"-qI needs a queue id (1-16 hex digits){(string.IsNullOrEmpty(id) ? "" : ", not '" + id + "'")}";
            FlushId = id;
            return null;
        }
        // -q30m: an interval for a queue-running daemon; the server runs its queue itself, so this flushes once.
        if (char.IsAsciiDigit(rest[0]))
        {
            Ignored.Add("-q" + rest + " (interval)");
            return null;
        }
        return $"-q{rest} is not supported (FastSpool takes -q and -qI<id>)";
    }

    private static readonly System.Buffers.SearchValues<char> s_notInSender = System.Buffers.SearchValues.Create("\r\n\0<> ");

    private string SetSender(string value)
    {
        string sender = value.Trim();
        if (sender.StartsWith('<') && sender.EndsWith('>'))
            sender = sender[1..^1];
        if (sender.AsSpan().IndexOfAny(s_notInSender) >= 0)
            return $"-f: '{value.ReplaceLineEndings(" ")}' is not an address";
        Sender = sender;
        return "";
    }

    /// <summary>An error for a value with a line break or NUL (it would end up in a header or an envelope line).</summary>
    private static string? Plain(string value, string option) =>
        value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0 ? $"{option}: a line break or NUL is not allowed" : null;

    private string SetNotify(string value)
    {
        DsnNotify notify = DsnNotify.None;
        foreach (string word in value.Split(',', StringSplitOptions.TrimEntries))
        {
            notify |= word.ToLowerInvariant() switch
            {
                "never" => DsnNotify.Never,
                "success" => DsnNotify.Success,
                "failure" => DsnNotify.Failure,
                "delay" => DsnNotify.Delay,
                _ => (DsnNotify)0xFF,
            };
        }
        if (notify == (DsnNotify)0xFF || (notify & ~(DsnNotify.Never | DsnNotify.Success | DsnNotify.Failure | DsnNotify.Delay)) != 0
            || ((notify & DsnNotify.Never) != 0 && notify != DsnNotify.Never))
        {
            return $"-N {value}: give never, or one or more of success, failure, delay separated by commas";
        }
        Notify = notify;
        return "";
    }

    private string SetReturn(string value)
    {
        switch (value.ToLowerInvariant())
        {
            case "full":
                Return = DsnReturn.Full;
                return "";
            case "hdrs":
                Return = DsnReturn.Headers;
                return "";
            default:
                return $"-R {value}: give full or hdrs";
        }
    }
}
