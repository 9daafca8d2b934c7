using BenchmarkDotNet.Running;
using FastSpool.Perf.Infrastructure;

namespace FastSpool.Perf;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == BudgetChecker.CommandName)
            return BudgetChecker.Run(args[1..], Console.Out);

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, PerfConfig.Create(args));
        return 0;
    }
}
