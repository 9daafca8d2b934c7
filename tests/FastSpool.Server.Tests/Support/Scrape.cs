using System.Globalization;
using System.Text;

namespace FastSpool.Server.Tests.Support;

/// <summary>A metrics exposition read the way a scraper reads it, written here from the text format's rules and not
/// with the server's code: <c># HELP</c>, <c># TYPE</c> and <c># UNIT</c> lines per family, then sample lines
/// <c>name{label="value",...} number</c>. Framing errors (a sample before its family's TYPE, a family declared twice,
/// a sample of another family, anything after <c># EOF</c>) are collected, not thrown, so a test can assert there are
/// none.</summary>
internal sealed class Scrape
{
    private Scrape()
    {
    }

    public string Text { get; private init; } = "";

    public List<(string Name, Dictionary<string, string> Labels, double Value)> Samples { get; } = [];

    /// <summary>Family name to type (<c>counter</c>, <c>gauge</c>, <c>histogram</c>).</summary>
    public Dictionary<string, string> Types { get; } = [];

    public Dictionary<string, string> Help { get; } = [];

    public List<string> Errors { get; } = [];

    public bool EndsWithEof { get; private set; }

    /// <summary>The value of the one sample named <paramref name="name"/> with exactly these labels; fails if none.</summary>
    public double Value(string name, params (string Key, string Value)[] labels)
    {
        var matches = Samples.Where(s => s.Name == name && s.Labels.Count == labels.Length && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).ToList();
        Assert.True(matches.Count == 1, $"{matches.Count} samples {name}{{{string.Join(",", labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} in:\n{Text}");
        return matches[0].Value;
    }

    public static Scrape Parse(string text, bool openMetrics)
    {
        var scrape = new Scrape { Text = text };
        string? family = null;
        string[] lines = text.Split('\n');
        if (lines[^1].Length != 0)
            scrape.Errors.Add("the text does not end with a line feed");
        for (int i = 0; i < lines.Length - 1; i++)
        {
            string line = lines[i];
            if (scrape.EndsWithEof)
            {
                scrape.Errors.Add($"line {i + 1} after # EOF: {line}");
                continue;
            }
            if (line == "# EOF")
            {
                scrape.EndsWithEof = true;
                continue;
            }
            if (line.StartsWith("# ", StringComparison.Ordinal))
            {
                string[] parts = line.Split(' ', 4);
                if (parts.Length < 4)
                {
                    scrape.Errors.Add($"line {i + 1}: a comment that is not HELP, TYPE or UNIT: {line}");
                    continue;
                }
                if (parts[1] == "TYPE")
                {
                    if (!scrape.Types.TryAdd(parts[2], parts[3]))
                        scrape.Errors.Add($"line {i + 1}: family {parts[2]} declared twice");
                    family = parts[2];
                }
                else if (parts[1] == "HELP")
                {
                    if (scrape.Types.ContainsKey(parts[2]) && family != parts[2])
                        scrape.Errors.Add($"line {i + 1}: HELP of {parts[2]} away from its family");
                    scrape.Help[parts[2]] = parts[3];
                }
                else if (parts[1] != "UNIT" || !openMetrics)
                {
                    scrape.Errors.Add($"line {i + 1}: unexpected comment {line}");
                }
                continue;
            }
            if (!TryParseSample(line, out string name, out Dictionary<string, string> labels, out double value))
            {
                scrape.Errors.Add($"line {i + 1}: not a sample: {line}");
                continue;
            }
            if (family is null || !BelongsTo(name, family, scrape.Types[family], openMetrics))
                scrape.Errors.Add($"line {i + 1}: sample {name} is not of the family declared before it ({family ?? "none"})");
            scrape.Samples.Add((name, labels, value));
        }
        if (openMetrics && !scrape.EndsWithEof)
            scrape.Errors.Add("no # EOF at the end");
        if (!openMetrics && scrape.EndsWithEof)
            scrape.Errors.Add("# EOF in the Prometheus text format");
        return scrape;
    }

    private static bool BelongsTo(string sample, string family, string type, bool openMetrics) => type switch
    {
        "counter" => openMetrics ? sample == family + "_total" : sample == family && family.EndsWith("_total", StringComparison.Ordinal),
        "histogram" => sample == family + "_bucket" || sample == family + "_count" || sample == family + "_sum",
        _ => sample == family,
    };

    private static bool TryParseSample(string line, out string name, out Dictionary<string, string> labels, out double value)
    {
        labels = [];
        value = 0;
        int i = 0;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or ':'))
            i++;
        name = line[..i];
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
            return false;
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (i < line.Length && line[i] != '}')
            {
                int eq = line.IndexOf("=\"", i, StringComparison.Ordinal);
                if (eq < 0)
                    return false;
                string key = line[i..eq];
                var text = new StringBuilder();
                int j = eq + 2;
                for (; j < line.Length && line[j] != '"'; j++)
                {
                    if (line[j] == '\\' && j + 1 < line.Length)
                        text.Append(line[++j] == 'n' ? '\n' : line[j]);
                    else
                        text.Append(line[j]);
                }
                if (j >= line.Length || !labels.TryAdd(key, text.ToString()))
                    return false;
                i = j + 1;
                if (i < line.Length && line[i] == ',')
                    i++;
            }
            i++;
        }
        if (i >= line.Length || line[i] != ' ')
            return false;
        string number = line[(i + 1)..];
        if (number == "+Inf")
            value = double.PositiveInfinity;
        else if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
            return false;
        return true;
    }
}
