using System.Globalization;
using System.Text;

namespace FastSpool.Server.Metrics;

/// <summary>Writes metric families in the OpenMetrics 1.0 text format, or in Prometheus's older text format 0.0.4
/// (what a scraper gets unless it asks for OpenMetrics). The two differ in the name a counter's family goes by
/// (<c>x</c> against <c>x_total</c>), the <c># UNIT</c> lines, the escaping of quotes in help, and the closing
/// <c># EOF</c>.</summary>
internal sealed class OpenMetricsWriter(bool openMetrics)
{
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    public const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new();

    public string ContentType => openMetrics ? OpenMetricsContentType : TextContentType;

    /// <summary>Whether an Accept header asks for OpenMetrics: a media range <c>application/openmetrics-text</c>
    /// whose q is not 0, as Prometheus sends (<c>application/openmetrics-text;version=1.0.0,...;q=0.5</c>).</summary>
    public static bool Accepts(string? accept)
    {
        if (string.IsNullOrEmpty(accept))
            return false;
        foreach (string range in accept.Split(','))
        {
            string[] parts = range.Split(';');
            if (!parts[0].Trim().Equals("application/openmetrics-text", StringComparison.OrdinalIgnoreCase))
                continue;
            bool refused = false;
            for (int i = 1; i < parts.Length; i++)
            {
                string parameter = parts[i].Trim();
                if (parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                    && double.TryParse(parameter.AsSpan(2), NumberStyles.Float, CultureInfo.InvariantCulture, out double q) && q <= 0)
                    refused = true;
                if (parameter.StartsWith("version=", StringComparison.OrdinalIgnoreCase) && !parameter.AsSpan(8).StartsWith("1."))
                    refused = true;
            }
            if (!refused)
                return true;
        }
        return false;
    }

    public void Family(string name, MetricKind kind, string? unit, string help)
    {
        string family = !openMetrics && kind == MetricKind.Counter ? name + "_total" : name;
        string type = kind switch { MetricKind.Counter => "counter", MetricKind.Histogram => "histogram", _ => "gauge" };
        _text.Append("# HELP ").Append(family).Append(' ');
        Escape(help, quotes: openMetrics);
        _text.Append('\n');
        _text.Append("# TYPE ").Append(family).Append(' ').Append(type).Append('\n');
        if (openMetrics && unit is not null)
            _text.Append("# UNIT ").Append(family).Append(' ').Append(unit).Append('\n');
    }

    public void Sample(string name, string suffix, ReadOnlySpan<KeyValuePair<string, string>> labels, long value)
    {
        Start(name, suffix, labels, le: null);
        _text.Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    public void Sample(string name, string suffix, ReadOnlySpan<KeyValuePair<string, string>> labels, double value)
    {
        Start(name, suffix, labels, le: null);
        _text.Append(Number(value)).Append('\n');
    }

    public void Bucket(string name, ReadOnlySpan<KeyValuePair<string, string>> labels, double bound, long count)
    {
        Start(name, "_bucket", labels, Number(bound));
        _text.Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>OpenMetrics ends the exposition with <c># EOF</c>.</summary>
    public void End()
    {
        if (openMetrics)
            _text.Append("# EOF\n");
    }

    public override string ToString() => _text.ToString();

    private void Start(string name, string suffix, ReadOnlySpan<KeyValuePair<string, string>> labels, string? le)
    {
        _text.Append(name).Append(suffix);
        if (labels.IsEmpty && le is null)
        {
            _text.Append(' ');
            return;
        }
        _text.Append('{');
        bool first = true;
        foreach (KeyValuePair<string, string> label in labels)
        {
            Label(label.Key, label.Value, first);
            first = false;
        }
        if (le is not null)
            Label("le", le, first);
        _text.Append("} ");
    }

    private void Label(string key, string value, bool first)
    {
        if (!first)
            _text.Append(',');
        _text.Append(key.Replace('.', '_')).Append("=\"");
        Escape(value, quotes: true);
        _text.Append('"');
    }

    private void Escape(string text, bool quotes)
    {
        foreach (char c in text)
        {
            _ = c switch
            {
                '\\' => _text.Append("\\\\"),
                '\n' => _text.Append("\\n"),
                '"' when quotes => _text.Append("\\\""),
                _ => _text.Append(c),
            };
        }
    }

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);
}
