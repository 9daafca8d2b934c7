using System.Globalization;
using System.Text.Json;

namespace FastSpool.Perf.Infrastructure;

/// <summary><c>check-budgets RESULTS_DIR [--budgets FILE]</c>: compares the allocated bytes per operation in
/// BenchmarkDotNet's full JSON reports (<c>*-report-full.json</c>) with perf/budgets.json. Exit code 1 when a
/// benchmark is over its budget, has no budget, or has no allocation figure (no MemoryDiagnoser); 2 on bad
/// arguments or missing reports.</summary>
internal static class BudgetChecker
{
    public const string CommandName = "check-budgets";

    private const string ReportPattern = "*-report-full.json";

    public static int Run(string[] args, TextWriter output)
    {
        if (!TryParseArguments(args, out string? resultsDirectory, out string budgetsPath))
        {
            output.WriteLine($"usage: {CommandName} RESULTS_DIR [--budgets FILE]   (RESULTS_DIR: BenchmarkDotNet.Artifacts/results)");
            return 2;
        }
        if (!Directory.Exists(resultsDirectory))
        {
            output.WriteLine($"{resultsDirectory}: no such directory");
            return 2;
        }
        string[] reports = Directory.GetFiles(resultsDirectory, ReportPattern);
        if (reports.Length == 0)
        {
            output.WriteLine($"{resultsDirectory}: no {ReportPattern} (run the benchmarks first; the JSON exporter is always on)");
            return 2;
        }
        Array.Sort(reports, StringComparer.Ordinal);

        AllocationBudgets budgets = AllocationBudgets.Load(budgetsPath);
        var failures = new List<string>();
        int checkedCount = 0;
        foreach (string report in reports)
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(report));
            foreach (JsonElement benchmark in document.RootElement.GetProperty("Benchmarks").EnumerateArray())
            {
                checkedCount++;
                string? failure = Check(benchmark, budgets, out string line);
                output.WriteLine(line);
                if (failure is not null)
                    failures.Add(failure);
            }
        }

        output.WriteLine();
        if (failures.Count == 0)
        {
            output.WriteLine($"{checkedCount} benchmarks within their allocation budgets ({budgetsPath}).");
            return 0;
        }
        output.WriteLine($"{failures.Count} of {checkedCount} benchmarks fail their allocation budgets ({budgetsPath}):");
        foreach (string failure in failures)
            output.WriteLine("  " + failure);
        return 1;
    }

    private static string? Check(JsonElement benchmark, AllocationBudgets budgets, out string line)
    {
        string type = benchmark.GetProperty("Type").GetString() ?? "";
        string method = benchmark.GetProperty("Method").GetString() ?? "";
        string parameters = benchmark.TryGetProperty("Parameters", out JsonElement p) ? p.GetString() ?? "" : "";
        string name = parameters.Length > 0 ? $"{type}.{method}({parameters})" : $"{type}.{method}";

        long? measured = null;
        if (benchmark.TryGetProperty("Memory", out JsonElement memory)
            && memory.ValueKind == JsonValueKind.Object
            && memory.TryGetProperty("BytesAllocatedPerOperation", out JsonElement bytes)
            && bytes.ValueKind == JsonValueKind.Number)
            measured = bytes.GetInt64();
        long? allowed = budgets.Find(type, method, parameters);

        string failure;
        if (measured is null)
            failure = $"{name}: no allocation figure in the report (is [MemoryDiagnoser] on the class?)";
        else if (allowed is null)
            failure = $"{name}: {Bytes(measured.Value)} allocated, no budget in budgets.json";
        else if (measured > allowed)
            failure = $"{name}: {Bytes(measured.Value)} allocated, budget {Bytes(allowed.Value)}";
        else
        {
            line = $"ok    {name}: {Bytes(measured.Value)} (budget {Bytes(allowed.Value)})";
            return null;
        }
        line = "FAIL  " + failure;
        return failure;
    }

    private static bool TryParseArguments(string[] args, out string? resultsDirectory, out string budgetsPath)
    {
        resultsDirectory = null;
        budgetsPath = Path.Combine(AppContext.BaseDirectory, "budgets.json");
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--budgets" && i + 1 < args.Length)
                budgetsPath = args[++i];
            else if (resultsDirectory is null && !args[i].StartsWith('-'))
                resultsDirectory = args[i];
            else
                return false;
        }
        return resultsDirectory is not null;
    }

    private static string Bytes(long value) => value.ToString("N0", CultureInfo.InvariantCulture) + " B/op";
}
