using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;

namespace FastSpool.Users;

/// <summary>An immutable snapshot of one name file, keyed case-insensitively. Lookups by span do not allocate.</summary>
internal sealed class NameTable<TValue>
{
    private readonly Dictionary<string, TValue>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <param name="entries">Keyed by lowercase names with <see cref="StringComparer.OrdinalIgnoreCase"/>; not
    /// modified afterwards.</param>
    public NameTable(Dictionary<string, TValue> entries, IReadOnlyList<string> warnings)
    {
        _lookup = entries.GetAlternateLookup<ReadOnlySpan<char>>();
        string[] names = [.. entries.Keys];
        Array.Sort(names, StringComparer.Ordinal);
        Names = new ReadOnlyCollection<string>(names);
        Warnings = warnings;
    }

    public static NameTable<TValue> Empty { get; } =
        new(new Dictionary<string, TValue>(StringComparer.OrdinalIgnoreCase), []);

    /// <summary>The names, lowercase, in ordinal order.</summary>
    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<string> Warnings { get; }

    public bool Contains(ReadOnlySpan<char> name) => _lookup.ContainsKey(name);

    public bool Contains(ReadOnlySpan<byte> localPartUtf8)
    {
        Span<char> name = stackalloc char[UserName.MaxLength];
        return UserName.TryDecode(localPartUtf8, name, out int length) && _lookup.ContainsKey(name[..length]);
    }

    public bool TryGetValue(ReadOnlySpan<char> name, [MaybeNullWhen(false)] out TValue value) =>
        _lookup.TryGetValue(name, out value);
}
