namespace FastSpool.Cli;

internal static class CommandLine
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("fastspool: no verb given");
        return args.Length == 0 ? 64 : 0;
    }
}
