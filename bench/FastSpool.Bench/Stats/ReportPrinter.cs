using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FastSpool.Bench.Stats;

/// <summary>The end-of-run summary on stdout, and the same figures as JSON.</summary>
internal static class ReportPrinter
{
    public static void Print(SmtpReport r, TextWriter output)
    {
        var features = new List<string> { r.Connection == "reuse" ? "reused connections" : "a connection per message", r.Greeting };
        if (r.Pipelining)
            features.Add("pipelining");
        if (r.Bdat)
            features.Add("BDAT");
        Line(output, "server", $"{r.Server} ({string.Join(", ", features)})");
        Line(output, "load", $"{r.Connections} connections, {r.Messages} messages, body size {r.Size} bytes");
        Line(output, "accepted", $"{r.Accepted} in {r.WallS:F3} s: {r.AcceptMsgsPerS:F1} msg/s, {r.AcceptMbPerS:F2} MB/s");
        LatencyReport l = r.LatencyMs;
        Line(output, "latency ms", $"p50 {l.P50:F3}  p90 {l.P90:F3}  p99 {l.P99:F3}  p99.9 {l.P999:F3}  max {l.Max:F3}");
        Labeled(output, "errors", Errors(r.Errors));
        if (r.DeliveryTimeout)
            Line(output, "end to end", $"TIMEOUT: {r.Delivered} of {r.Accepted} delivered");
        else if (r.E2eMsgsPerS is double e2e)
            Line(output, "end to end", $"{r.Delivered} delivered, {e2e:F1} msg/s (first send to last delivery {r.E2eS:F3} s)");
        if (r.ServerCpuS is not null || r.ServerPeakRssKb is not null)
            Line(output, "server use", $"cpu {r.ServerCpuS:F2} s, peak rss {r.ServerPeakRssKb} kB");
        if (r.ServerAllocBytesPerMsg is double allocated)
            Line(output, "allocated", $"server: {allocated:F0} bytes per accepted message");
        Line(output, "generator", $"cpu {r.ClientCpuS:F2} s, {r.ClientAllocBytesPerMsg:F0} bytes allocated per message");
        foreach (string warning in r.Warnings)
            output.WriteLine("warning: " + warning);
    }

    public static void Print(IdleReport r, TextWriter output)
    {
        Labeled(output, "server", r.Server);
        Line(output, "opened", $"{r.Opened} of {r.Connections} in {r.OpenS:F3} s");
        Line(output, "held", $"{r.HoldS:F1} s; open after hold {r.OpenAfterHold}; QUIT answered {r.QuitOk}");
        Labeled(output, "errors", Errors(r.Errors));
        Line(output, "wall", $"{r.WallS:F3} s");
        foreach (string warning in r.Warnings)
            output.WriteLine("warning: " + warning);
    }

    public static void WriteJson(SmtpReport report, string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(report, ReportJsonContext.Default.SmtpReport) + "\n");

    public static void WriteJson(IdleReport report, string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(report, ReportJsonContext.Default.IdleReport) + "\n");

    private static string Errors(SortedDictionary<string, long> errors)
    {
        if (errors.Count == 0)
            return "none";
        var text = new StringBuilder();
        foreach ((string kind, long count) in errors)
            text.Append(CultureInfo.InvariantCulture, $"{(text.Length > 0 ? ", " : "")}{kind}: {count}");
        return text.ToString();
    }

    private static void Line(TextWriter output, string label, FormattableString text) =>
        Labeled(output, label, text.ToString(CultureInfo.InvariantCulture));

    private static void Labeled(TextWriter output, string label, string text) => output.WriteLine($"{label,-12}{text}");
}
