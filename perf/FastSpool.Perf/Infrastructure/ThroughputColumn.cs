using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace FastSpool.Perf.Infrastructure;

/// <summary>GB/s (10^9 bytes per second) for benchmarks marked with <see cref="BytesPerOperationAttribute"/>:
/// bytes per operation divided by the mean time per operation in nanoseconds.</summary>
internal sealed class ThroughputColumn : IColumn
{
    public static ThroughputColumn Instance { get; } = new();

    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "GB/s";

    public bool AlwaysShow => false;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Input bytes per operation / mean time per operation, in 10^9 bytes per second";

    public static long? BytesPerOperation(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<BytesPerOperationAttribute>()?.Bytes;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        long? bytes = BytesPerOperation(benchmarkCase);
        double? meanNanoseconds = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (bytes is null || meanNanoseconds is not > 0)
            return "-";
        return (bytes.Value / meanNanoseconds.Value).ToString("0.00", CultureInfo.InvariantCulture);
    }

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => BytesPerOperation(benchmarkCase) is null;

    public bool IsAvailable(Summary summary) => true;
}
