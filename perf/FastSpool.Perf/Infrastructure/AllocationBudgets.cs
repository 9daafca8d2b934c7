using System.Text.Json;

namespace FastSpool.Perf.Infrastructure;

/// <summary>perf/budgets.json: allowed allocated bytes per operation, by <c>Class.Method</c>, optionally narrowed to
/// one parameter case as <c>Class.Method(Name=Value)</c>.</summary>
internal sealed class AllocationBudgets
{
    private readonly Dictionary<string, long> _bytes;

    private AllocationBudgets(Dictionary<string, long> bytes) => _bytes = bytes;

    public static AllocationBudgets Load(string path)
    {
        using FileStream stream = File.OpenRead(path);
        using JsonDocument document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (JsonElement budget in document.RootElement.GetProperty("budgets").EnumerateArray())
        {
            string name = budget.GetProperty("benchmark").GetString()
                ?? throw new InvalidDataException($"{path}: a budget without a benchmark name");
            long allowed = budget.GetProperty("allocatedBytesPerOperation").GetInt64();
            if (!bytes.TryAdd(name, allowed))
                throw new InvalidDataException($"{path}: {name} has two budgets");
        }
        return new AllocationBudgets(bytes);
    }

    /// <summary>The budget of one benchmark case: the parameter-specific entry if there is one, else the method's.</summary>
    public long? Find(string type, string method, string parameters)
    {
        if (parameters.Length > 0 && _bytes.TryGetValue($"{type}.{method}({parameters})", out long specific))
            return specific;
        return _bytes.TryGetValue($"{type}.{method}", out long general) ? general : null;
    }
}
