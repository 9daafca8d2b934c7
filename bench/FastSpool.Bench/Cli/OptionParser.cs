using System.Globalization;
using FastSpool.Bench.Messages;

namespace FastSpool.Bench.Cli;

/// <summary>
/// Parses the verbs' options (<c>--name value</c> or <c>--name=value</c>). Every mistake is a
/// <see cref="UsageException"/> whose message starts with the option it is about.
/// </summary>
internal static class OptionParser
{
    public const int MaxConnections = 1_000_000;
    public const int MaxMessages = 100_000_000;

    public static Pop3BenchOptions ParsePop3(IReadOnlyList<string> args)
    {
        var values = Collect(args, valued: ["--server", "--connections", "--users", "--password", "--timeout", "--server-pid"], flags: []);
        if (!values.TryGetValue("--users", out string? users) || users.Split(',', StringSplitOptions.RemoveEmptyEntries) is not { Length: > 0 } names)
            throw new UsageException("--users: a comma-separated list of users is required");
        if (!values.TryGetValue("--password", out string? password) || password.Length == 0)
            throw new UsageException("--password: the users' password is required");
        int? pid = values.TryGetValue("--server-pid", out string? pidText) ? ParseCount("--server-pid", pidText, 1, int.MaxValue) : null;
        return new Pop3BenchOptions
        {
            Server = ParseServer("--server", values.GetValueOrDefault("--server", "127.0.0.1:1110")),
            Users = names,
            Password = password,
            Connections = ParseCount("--connections", values.GetValueOrDefault("--connections", "10"), 1, MaxConnections),
            Timeout = ParseDuration("--timeout", values.GetValueOrDefault("--timeout", "300s")),
            ServerPid = pid,
        };
    }

    public static SmtpBenchOptions ParseSmtp(IReadOnlyList<string> args)
    {
        var values = Collect(args,
            valued: ["--server", "--connections", "--messages", "--size", "--size-mix", "--to", "--from",
                "--until-delivered", "--json", "--timeout", "--server-pid", "--server-log", "--auth", "--trust", "--tls-host"],
            flags: ["--pipelining", "--reuse", "--bdat", "--helo", "--starttls", "--implicit-tls"]);

        if (values.ContainsKey("--size") && values.ContainsKey("--size-mix"))
            throw new UsageException("--size-mix: give either --size or --size-mix, not both");
        SizeMix sizes = values.TryGetValue("--size-mix", out string? mix)
            ? ParseSizeMix("--size-mix", mix)
            : SizeMix.Single(ParseMessageSize("--size", values.GetValueOrDefault("--size", "10KiB")));

        bool helo = values.ContainsKey("--helo");
        if (helo && values.ContainsKey("--pipelining"))
            throw new UsageException("--pipelining: needs EHLO; it cannot be used with --helo");
        if (helo && values.ContainsKey("--bdat"))
            throw new UsageException("--bdat: needs EHLO; it cannot be used with --helo");

        bool startTls = values.ContainsKey("--starttls");
        bool implicitTls = values.ContainsKey("--implicit-tls");
        if (startTls && implicitTls)
            throw new UsageException("--starttls: give either --starttls or --implicit-tls, not both");
        if (helo && startTls)
            throw new UsageException("--starttls: needs EHLO; it cannot be used with --helo");
        string? authUser = null, authPassword = null;
        if (values.TryGetValue("--auth", out string? auth))
        {
            int colon = auth.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == auth.Length - 1)
                throw new UsageException("--auth: give USER:PASSWORD");
            if (helo)
                throw new UsageException("--auth: needs EHLO; it cannot be used with --helo");
            (authUser, authPassword) = (auth[..colon], auth[(colon + 1)..]);
        }

        if (!values.TryGetValue("--to", out string? to))
            throw new UsageException("--to: a recipient address is required");

        int? pid = null;
        if (values.TryGetValue("--server-pid", out string? pidText))
            pid = ParseCount("--server-pid", pidText, 1, int.MaxValue);

        return new SmtpBenchOptions
        {
            Server = ParseServer("--server", values.GetValueOrDefault("--server", "127.0.0.1:2525")),
            Connections = ParseCount("--connections", values.GetValueOrDefault("--connections", "10"), 1, MaxConnections),
            Messages = ParseCount("--messages", values.GetValueOrDefault("--messages", "1000"), 1, MaxMessages),
            Sizes = sizes,
            To = ParseAddress("--to", to),
            From = ParseAddress("--from", values.GetValueOrDefault("--from", "bench@example.org")),
            Pipelining = values.ContainsKey("--pipelining"),
            Reuse = values.ContainsKey("--reuse"),
            Bdat = values.ContainsKey("--bdat"),
            Helo = helo,
            StartTls = startTls,
            ImplicitTls = implicitTls,
            TrustCertificate = NonEmpty("--trust", values.GetValueOrDefault("--trust")),
            TlsHost = values.GetValueOrDefault("--tls-host", "localhost"),
            AuthUser = authUser,
            AuthPassword = authPassword,
            UntilDelivered = NonEmpty("--until-delivered", values.GetValueOrDefault("--until-delivered")),
            JsonPath = NonEmpty("--json", values.GetValueOrDefault("--json")),
            Timeout = ParseDuration("--timeout", values.GetValueOrDefault("--timeout", "300s")),
            ServerPid = pid,
            ServerLog = NonEmpty("--server-log", values.GetValueOrDefault("--server-log")),
        };
    }

    public static SendmailBenchOptions ParseSendmail(IReadOnlyList<string> args)
    {
        // --env may be given more than once: taken out before the others are collected.
        var environment = new List<string>();
        var rest = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--env" && i + 1 < args.Count)
                environment.Add(args[++i]);
            else if (args[i].StartsWith("--env=", StringComparison.Ordinal))
                environment.Add(args[i][6..]);
            else
                rest.Add(args[i]);
        }
        foreach (string variable in environment)
        {
            if (variable.IndexOf('=', StringComparison.Ordinal) <= 0)
                throw new UsageException($"--env: '{variable}' is not NAME=VALUE");
        }
        var values = Collect(rest, valued: ["--command", "--to", "--processes", "--messages", "--size", "--until-delivered", "--timeout"], flags: []);
        if (!values.TryGetValue("--command", out string? command))
            throw new UsageException("--command: the sendmail program to run is required");
        if (!values.TryGetValue("--to", out string? to))
            throw new UsageException("--to: a recipient address is required");
        return new SendmailBenchOptions
        {
            Command = command,
            Environment = environment,
            To = ParseAddress("--to", to),
            Processes = ParseCount("--processes", values.GetValueOrDefault("--processes", "4"), 1, 10_000),
            Messages = ParseCount("--messages", values.GetValueOrDefault("--messages", "100"), 1, MaxMessages),
            Size = ParseMessageSize("--size", values.GetValueOrDefault("--size", "1KiB")),
            UntilDelivered = NonEmpty("--until-delivered", values.GetValueOrDefault("--until-delivered")),
            Timeout = ParseDuration("--timeout", values.GetValueOrDefault("--timeout", "300s")),
        };
    }

    public static IdleBenchOptions ParseIdle(IReadOnlyList<string> args)
    {
        var values = Collect(args,
            valued: ["--server", "--connections", "--hold", "--timeout", "--json", "--concurrency"],
            flags: []);
        return new IdleBenchOptions
        {
            Server = ParseServer("--server", values.GetValueOrDefault("--server", "127.0.0.1:2525")),
            Connections = ParseCount("--connections", values.GetValueOrDefault("--connections", "1000"), 1, MaxConnections),
            Hold = ParseDuration("--hold", values.GetValueOrDefault("--hold", "30s"), allowZero: true),
            Timeout = ParseDuration("--timeout", values.GetValueOrDefault("--timeout", "60s")),
            ConnectConcurrency = ParseCount("--concurrency", values.GetValueOrDefault("--concurrency", "200"), 1, 100_000),
            JsonPath = NonEmpty("--json", values.GetValueOrDefault("--json")),
        };
    }

    /// <summary>Bytes: a plain number, or with a suffix <c>B</c>, <c>K</c>/<c>KiB</c>, <c>M</c>/<c>MiB</c>, <c>G</c>/<c>GiB</c> (powers of 1024).</summary>
    public static long ParseSize(string option, string text)
    {
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        int digits = 0;
        while (digits < s.Length && char.IsAsciiDigit(s[digits]))
            digits++;
        if (digits == 0 || !long.TryParse(s[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out long number))
            throw new UsageException($"{option}: '{text}' is not a size (examples: 512, 10KiB, 1MiB)");
        long unit = s[digits..].Trim().ToString().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KIB" => 1L << 10,
            "M" or "MIB" => 1L << 20,
            "G" or "GIB" => 1L << 30,
            _ => throw new UsageException($"{option}: '{text}' has an unknown unit (use B, KiB, MiB or GiB)"),
        };
        if (number > long.MaxValue / unit)
            throw new UsageException($"{option}: '{text}' is too large");
        return number * unit;
    }

    /// <summary>A body size: 0, or 2 bytes (one empty line) up to 256 MiB.</summary>
    public static int ParseMessageSize(string option, string text)
    {
        long size = ParseSize(option, text);
        if (size == 1)
            throw new UsageException($"{option}: a body is 0 bytes or at least 2 (one line end); got 1");
        if (size > MessageFactory.MaxBodySize)
            throw new UsageException($"{option}: '{text}' is larger than 256MiB");
        return (int)size;
    }

    /// <summary><c>SIZE:WEIGHT,SIZE:WEIGHT,...</c>, e.g. <c>1KiB:70,10KiB:25,100KiB:5</c>.</summary>
    public static SizeMix ParseSizeMix(string option, string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        var weights = new int[parts.Length];
        long total = 0;
        for (int i = 0; i < parts.Length; i++)
        {
            int colon = parts[i].LastIndexOf(':');
            if (colon <= 0 || colon == parts[i].Length - 1)
                throw new UsageException($"{option}: '{parts[i]}' is not SIZE:WEIGHT (example: 1KiB:70,10KiB:25,100KiB:5)");
            sizes[i] = ParseMessageSize(option, parts[i][..colon]);
            weights[i] = ParseCount(option, parts[i][(colon + 1)..], 1, SizeMix.MaxTotalWeight);
            total += weights[i];
        }
        if (total > SizeMix.MaxTotalWeight)
            throw new UsageException($"{option}: the weights add up to {total}; at most {SizeMix.MaxTotalWeight}");
        return new SizeMix(sizes, weights);
    }

    /// <summary>A plain number of seconds, or with a suffix <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>.</summary>
    public static TimeSpan ParseDuration(string option, string text, bool allowZero = false)
    {
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        int end = 0;
        while (end < s.Length && (char.IsAsciiDigit(s[end]) || s[end] == '.'))
            end++;
        if (end == 0 || !double.TryParse(s[..end], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
            throw new UsageException($"{option}: '{text}' is not a duration (examples: 500ms, 60s, 5m)");
        double seconds = s[end..].Trim().ToString() switch
        {
            "" or "s" => number,
            "ms" => number / 1000,
            "m" or "min" => number * 60,
            "h" => number * 3600,
            _ => throw new UsageException($"{option}: '{text}' has an unknown unit (use ms, s, m or h)"),
        };
        if (seconds > 7 * 24 * 3600)
            throw new UsageException($"{option}: '{text}' is longer than a week");
        if (seconds <= 0 && !(allowZero && seconds == 0))
            throw new UsageException($"{option}: '{text}' must be longer than 0");
        return TimeSpan.FromSeconds(seconds);
    }

    public static int ParseCount(string option, string text, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            throw new UsageException($"{option}: '{text}' is not a whole number");
        if (value < min || value > max)
            throw new UsageException($"{option}: {value} is out of range ({min}..{max})");
        return value;
    }

    public static ServerAddress ParseServer(string option, string text)
    {
        string host;
        string port;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
                throw new UsageException($"{option}: '{text}' is not [IPv6]:PORT");
            host = text[1..close];
            port = text[(close + 2)..];
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':') != colon)
                throw new UsageException($"{option}: '{text}' is not HOST:PORT");
            host = text[..colon];
            port = text[(colon + 1)..];
        }
        return new ServerAddress(host, ParseCount(option, port, 1, 65535));
    }

    /// <summary>An address as it goes between angle brackets: printable ASCII, no spaces or brackets.</summary>
    public static string ParseAddress(string option, string text)
    {
        if (text.Length == 0 || text.Length > 254)
            throw new UsageException($"{option}: an address of 1..254 characters is needed");
        foreach (char c in text)
        {
            if (c <= ' ' || c >= 0x7f || c is '<' or '>')
                throw new UsageException($"{option}: '{text}' is not a plain address like alice@example.org");
        }
        return text;
    }

    private static string? NonEmpty(string option, string? text) =>
        text is { Length: 0 } ? throw new UsageException($"{option}: needs a non-empty value") : text;

    private static Dictionary<string, string> Collect(IReadOnlyList<string> args, string[] valued, string[] flags)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
                throw new UsageException($"{arg}: unexpected argument (options start with --)");
            string name = arg;
            string? value = null;
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                name = arg[..equals];
                value = arg[(equals + 1)..];
            }
            if (Array.IndexOf(flags, name) >= 0)
            {
                if (value is not null)
                    throw new UsageException($"{name}: takes no value");
                value = "";
            }
            else if (Array.IndexOf(valued, name) >= 0)
            {
                if (value is null)
                {
                    if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                        throw new UsageException($"{name}: needs a value");
                    value = args[++i];
                }
            }
            else
            {
                throw new UsageException($"{name}: unknown option");
            }
            if (!values.TryAdd(name, value))
                throw new UsageException($"{name}: given more than once");
        }
        return values;
    }
}
