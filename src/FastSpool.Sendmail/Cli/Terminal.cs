namespace FastSpool.Cli;

/// <summary>Where a verb reads and writes: the process's console, or strings in tests. <see cref="ReadSecret"/> is
/// set when standard input is a terminal: it prompts and reads a line without echo.</summary>
internal sealed record Terminal(TextReader In, TextWriter Out, TextWriter Error)
{
    public Func<string, string?>? ReadSecret { get; init; }

    /// <summary>Standard input and output as octets (sendmail reads messages and speaks SMTP through them); null
    /// where the terminal is strings, which are then used as UTF-8.</summary>
    public Func<Stream>? OpenInput { get; init; }

    public Func<Stream>? OpenOutput { get; init; }

    public static Terminal Console => new(System.Console.In, System.Console.Out, System.Console.Error)
    {
        ReadSecret = System.Console.IsInputRedirected ? null : ReadWithoutEcho,
        OpenInput = System.Console.OpenStandardInput,
        OpenOutput = System.Console.OpenStandardOutput,
    };

    /// <summary>Prompts on standard error and reads keys (not shown) up to Enter; null at end of input or Ctrl-D on
    /// an empty line.</summary>
    private static string? ReadWithoutEcho(string prompt)
    {
        System.Console.Error.Write(prompt);
        var text = new System.Text.StringBuilder();
        try
        {
            while (true)
            {
                ConsoleKeyInfo key = System.Console.ReadKey(intercept: true);
                if (key.Key == ConsoleKey.Enter)
                    return text.ToString();
                if (key.Key == ConsoleKey.Backspace)
                {
                    if (text.Length > 0)
                        text.Length--;
                }
                else if (key.Key == ConsoleKey.D && key.Modifiers == ConsoleModifiers.Control)
                {
                    if (text.Length == 0)
                        return null;
                }
                else if (key.KeyChar != '\0')
                {
                    text.Append(key.KeyChar);
                }
            }
        }
        finally
        {
            System.Console.Error.WriteLine();
        }
    }
}
