using System.Buffers;

namespace FastSpool.Users;

/// <summary>Parses an aliases(5) file: <c>name: target, target</c>; lines that start with white space continue the
/// entry above; blank lines and <c>#</c> comments are skipped. Each target is stored in one of three forms: a
/// lowercase local name (expanded further), <c>\name</c> (that mailbox, not expanded), or <c>user@domain</c>.
/// Commands, files and includes are never run: they are dropped with a warning.</summary>
internal static class AliasFileParser
{
    public const string FileName = "aliases";

    private static readonly SearchValues<char> NotInLocalPart = SearchValues.Create(" \t\"@<>,;:\\()[]");
    // Brackets are allowed in a domain: user@[192.0.2.1].
    private static readonly SearchValues<char> NotInDomain = SearchValues.Create(" \t\"@<>,;:\\()");

    /// <param name="source">How warnings name the file: its path.</param>
    public static NameTable<string[]> Parse(string? text, string source)
    {
        if (string.IsNullOrEmpty(text))
            return NameTable<string[]>.Empty;

        var entries = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        var warnings = new List<string>();
        var targets = new List<string>();
        string? alias = null;   // the entry being read, or null when it is being skipped
        bool inEntry = false;   // continuation lines of a skipped entry are skipped quietly
        int entryLine = 0;
        int lineNumber = 0;

        foreach (ReadOnlySpan<char> line in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> content = line.Trim();
            if (content.IsEmpty || content[0] == '#')
                continue;

            if (char.IsWhiteSpace(line[0]))
            {
                if (!inEntry)
                    warnings.Add($"{source} line {lineNumber}: continuation line without an alias; ignored");
                else if (alias is not null)
                    ReadTargets(content, alias, lineNumber, targets, warnings, source);
                continue;
            }

            Finish(alias, entryLine, targets, entries, warnings, source);
            alias = null;
            inEntry = true;
            entryLine = lineNumber;

            int colon = IndexOfUnquoted(content, ':');
            if (colon < 0)
            {
                warnings.Add($"{source} line {lineNumber}: no ':' after the alias name; entry ignored");
                continue;
            }
            ReadOnlySpan<char> name = Unquote(content[..colon].TrimEnd());
            if (!UserName.TryNormalize(name, out string? normalized))
                warnings.Add($"{source} line {lineNumber}: invalid alias name '{name}'; entry ignored");
            else if (entries.ContainsKey(normalized))
                warnings.Add($"{source} line {lineNumber}: duplicate alias '{normalized}'; the first entry counts");
            else
                alias = normalized;

            if (alias is not null)
                ReadTargets(content[(colon + 1)..], alias, lineNumber, targets, warnings, source);
        }
        Finish(alias, entryLine, targets, entries, warnings, source);
        return new NameTable<string[]>(entries, warnings);
    }

    private static void Finish(
        string? alias, int line, List<string> targets, Dictionary<string, string[]> entries, List<string> warnings, string source)
    {
        if (alias is null)
            return;
        if (targets.Count == 0)
            warnings.Add($"{source} line {line}: alias '{alias}' has no supported targets; entry ignored");
        else
            entries.Add(alias, [.. targets]);
        targets.Clear();
    }

    private static void ReadTargets(
        ReadOnlySpan<char> list, string alias, int lineNumber, List<string> targets, List<string> warnings, string source)
    {
        while (!list.IsEmpty)
        {
            int comma = IndexOfUnquoted(list, ',');
            ReadOnlySpan<char> item = (comma < 0 ? list : list[..comma]).Trim();
            list = comma < 0 ? default : list[(comma + 1)..];
            if (item.IsEmpty)
                continue;

            string? unsupported = KindOfUnsupported(Unquote(item));
            if (unsupported is not null)
            {
                warnings.Add($"{source} line {lineNumber}: alias '{alias}': {unsupported} target '{item}' is not supported; skipped");
                continue;
            }
            string? target = Classify(item);
            if (target is null)
                warnings.Add($"{source} line {lineNumber}: alias '{alias}': invalid target '{item}'; skipped");
            else
                targets.Add(target);
        }
    }

    private static string? KindOfUnsupported(ReadOnlySpan<char> value) =>
        value.StartsWith('|') ? "command"
        : value.StartsWith('/') ? "file"
        : value.StartsWith(":include:", StringComparison.OrdinalIgnoreCase) ? "include"
        : null;

    /// <summary>The stored form of a target, or null when it is neither a local name nor an address.</summary>
    private static string? Classify(ReadOnlySpan<char> item)
    {
        ReadOnlySpan<char> value = Unquote(item);
        if (value.StartsWith('\\'))
            return UserName.TryNormalize(value[1..], out string? mailbox) ? "\\" + mailbox : null;

        // An address may quote its local part ("john smith"@example.org): keep it as written.
        int at = value.LastIndexOf('@');
        if (at >= 0)
            return IsPlausibleAddress(value[..at], value[(at + 1)..]) ? value.ToString() : null;
        return UserName.TryNormalize(value, out string? local) ? local : null;
    }

    /// <summary>A light check only: the relay agent parses remote addresses properly when it sends.</summary>
    private static bool IsPlausibleAddress(ReadOnlySpan<char> localPart, ReadOnlySpan<char> domain)
    {
        bool quotedLocal = localPart.Length >= 2 && localPart[0] == '"' && localPart[^1] == '"';
        return !localPart.IsEmpty
            && !domain.IsEmpty
            && (quotedLocal || localPart.IndexOfAny(NotInLocalPart) < 0)
            && domain.IndexOfAny(NotInDomain) < 0;
    }

    /// <summary>Removes surrounding double quotes and backslash escapes; text that is not one quoted string is
    /// returned as is.</summary>
    private static ReadOnlySpan<char> Unquote(ReadOnlySpan<char> text)
    {
        if (text.Length < 2 || text[0] != '"' || text[^1] != '"')
            return text;
        ReadOnlySpan<char> inner = text[1..^1];
        var unescaped = new char[inner.Length];
        int length = 0;
        for (int i = 0; i < inner.Length; i++)
        {
            char c = inner[i];
            if (c == '"')
                return text; // "a" "b": two quoted strings, not one
            if (c == '\\')
            {
                if (++i == inner.Length)
                    return text; // the closing quote was escaped
                c = inner[i];
            }
            unescaped[length++] = c;
        }
        return unescaped.AsSpan(0, length);
    }

    /// <summary>Index of <paramref name="c"/> outside double-quoted strings, or -1.</summary>
    private static int IndexOfUnquoted(ReadOnlySpan<char> text, char c)
    {
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char x = text[i];
            if (quoted && x == '\\')
                i++;
            else if (x == '"')
                quoted = !quoted;
            else if (!quoted && x == c)
                return i;
        }
        return -1;
    }
}
