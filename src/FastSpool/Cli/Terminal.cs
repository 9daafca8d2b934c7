namespace FastSpool.Cli;

/// <summary>Where a verb reads and writes: the process's console, or strings in tests.</summary>
internal sealed record Terminal(TextReader In, TextWriter Out, TextWriter Error)
{
    public static Terminal Console => new(System.Console.In, System.Console.Out, System.Console.Error);
}
