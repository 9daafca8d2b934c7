using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;

namespace FastSpool.Perf.Infrastructure;

/// <summary>What every run gets on top of BenchmarkDotNet's defaults: the full JSON export (read by
/// <see cref="BudgetChecker"/>), the Op/s and GB/s columns, and the quick default job.</summary>
internal static class PerfConfig
{
    /// <summary>Short enough for the whole suite to finish in a few minutes on two cores. Out of process (one
    /// generated project, built once per run): in process, allocations of earlier benchmarks' background work
    /// show up as a few bytes per operation in later ones, and the budgets are exact.</summary>
    public static Job QuickJob { get; } = Job.Default
        .WithId("Quick")
        .WithLaunchCount(1)
        .WithWarmupCount(2)
        .WithIterationCount(5);

    /// <summary>The quick job is the base that BenchmarkDotNet's options (<c>--iterationCount 3</c>,
    /// <c>--warmupCount 1</c>...) modify. With <c>--job NAME</c> it is left out: BenchmarkDotNet would otherwise
    /// keep it and ignore the named job.</summary>
    public static IConfig Create(string[] args)
    {
        ManualConfig config = ManualConfig.Create(DefaultConfig.Instance)
            .AddExporter(JsonExporter.Full)
            .AddColumn(StatisticColumn.OperationsPerSecond, ThroughputColumn.Instance);
        if (!NamesJob(args))
            config.AddJob(QuickJob.AsDefault());
        return config;
    }

    private static bool NamesJob(string[] args)
    {
        foreach (string arg in args)
        {
            if (arg is "--job" or "-j" || arg.StartsWith("--job=", StringComparison.Ordinal))
                return true;
        }
        return false;
    }
}
