using System.Runtime.CompilerServices;
using System.Text;

namespace FastSpool.Users;

/// <summary>The local domains, looked up from UTF-8 bytes without allocating (ASCII case-insensitive). A reload
/// replaces the whole set at once.</summary>
public sealed class DomainSet
{
    private volatile StrongBox<HashSet<string>.AlternateLookup<ReadOnlySpan<char>>> _lookup;

    public DomainSet(IEnumerable<string> domains) => _lookup = Build(domains);

    /// <summary>Replaces the domains (SIGHUP).</summary>
    public void Replace(IEnumerable<string> domains) => _lookup = Build(domains);

    private static StrongBox<HashSet<string>.AlternateLookup<ReadOnlySpan<char>>> Build(IEnumerable<string> domains)
    {
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string d in domains)
            set.Add(d.Trim().TrimEnd('.'));
        return new(set.GetAlternateLookup<ReadOnlySpan<char>>());
    }

    public bool Contains(ReadOnlySpan<byte> domainUtf8)
    {
        if (domainUtf8.Length is 0 or > 255)
            return false;
        if (domainUtf8[^1] == (byte)'.')
            domainUtf8 = domainUtf8[..^1];
        Span<char> chars = stackalloc char[256];
        if (!Encoding.UTF8.TryGetChars(domainUtf8, chars, out int written))
            return false;
        return Contains(chars[..written]);
    }

    public bool Contains(ReadOnlySpan<char> domain)
    {
        if (!domain.IsEmpty && domain[^1] == '.')
            domain = domain[..^1];
        return _lookup.Value.Contains(domain);
    }
}
