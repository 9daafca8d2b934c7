namespace FastSpool.Fuzz;

internal static class Program
{
    private static int Main(string[] args) => FuzzTargets.Run(args);
}
