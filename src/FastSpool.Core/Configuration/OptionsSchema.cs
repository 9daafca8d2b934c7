using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;

namespace FastSpool.Configuration;

/// <summary>The configuration keys, read from the options types themselves so that a new option needs no second list:
/// which keys exist and what shape each takes (a value, a list, a section), the nearest key to a misspelt one, and
/// the effective settings as <c>Section:Key</c> = text (for <c>fastspool check</c> and the reload log). A trimmed
/// build (the native sendmail client) keeps the options types whole (ILLink.Descriptors.xml, embedded in this
/// assembly), so the reflection here finds every key there too.</summary>
[UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "The options types are kept whole by ILLink.Descriptors.xml.")]
[UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "The options types are kept whole by ILLink.Descriptors.xml.")]
[UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "The options types are kept whole by ILLink.Descriptors.xml.")]
public static class OptionsSchema
{
    public static IEnumerable<PropertyInfo> Keys(Type section) =>
        section.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true });

    public static OptionShape ShapeOf(Type type) =>
        type == typeof(List<string>) ? OptionShape.List
        : type.IsClass && type != typeof(string) && type.Namespace == typeof(OptionsSchema).Namespace ? OptionShape.Section
        : OptionShape.Value;

    public static PropertyInfo? Find(Type section, string name) =>
        Keys(section).FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every key's path, <c>Smtp:MaxRecipients</c>.</summary>
    public static List<string> AllKeys(Type? section = null, string prefix = "")
    {
        var keys = new List<string>();
        foreach (PropertyInfo p in Keys(section ?? typeof(FastSpoolOptions)))
        {
            if (ShapeOf(p.PropertyType) == OptionShape.Section)
                keys.AddRange(AllKeys(p.PropertyType, prefix + p.Name + ":"));
            else
                keys.Add(prefix + p.Name);
        }
        return keys;
    }

    /// <summary>Whether <paramref name="path"/> names a key or a list entry (<c>Smtp:Listen:0</c>), in any case.</summary>
    public static bool IsKey(string path)
    {
        Type type = typeof(FastSpoolOptions);
        string[] parts = path.Split(':');
        for (int i = 0; i < parts.Length; i++)
        {
            PropertyInfo? p = Find(type, parts[i]);
            if (p is null)
                return false;
            OptionShape shape = ShapeOf(p.PropertyType);
            if (shape == OptionShape.List)
                return i == parts.Length - 1 || (i == parts.Length - 2 && int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out _));
            if (shape == OptionShape.Value)
                return i == parts.Length - 1;
            type = p.PropertyType;
        }
        return false;
    }

    /// <summary>The known key nearest to an unknown <paramref name="path"/>: a small edit away, or the same name in
    /// another section; null when none is close.</summary>
    public static string? Nearest(string path)
    {
        string last = path[(path.LastIndexOf(':') + 1)..];
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string key in AllKeys())
        {
            int distance = Distance(path.ToLowerInvariant(), key.ToLowerInvariant());
            if (distance < bestDistance)
                (best, bestDistance) = (key, distance);
        }
        if (best is not null && bestDistance <= Math.Max(2, path.Length / 4))
            return best;
        return AllKeys().FirstOrDefault(k => k[(k.LastIndexOf(':') + 1)..].Equals(last, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The settings as <c>(Section:Key, text)</c> in declaration order; lists as <c>[a, b]</c>.</summary>
    public static List<KeyValuePair<string, string>> Flatten(object options, string prefix = "")
    {
        var values = new List<KeyValuePair<string, string>>();
        foreach (PropertyInfo p in Keys(options.GetType()))
        {
            object? value = p.GetValue(options);
            if (ShapeOf(p.PropertyType) == OptionShape.Section && value is not null)
                values.AddRange(Flatten(value, prefix + p.Name + ":"));
            else
                values.Add(new(prefix + p.Name, Format(value)));
        }
        return values;
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        List<string> list => "[" + string.Join(", ", list) + "]",
        bool b => b ? "true" : "false",
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Levenshtein distance.</summary>
    private static int Distance(string a, string b)
    {
        int[] previous = new int[b.Length + 1];
        int[] current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
