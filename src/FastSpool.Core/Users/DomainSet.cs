using System.Text;

namespace FastSpool.Users;

/// <summary>The local domains, looked up from UTF-8 bytes without allocating (ASCII case-insensitive).</summary>
public sealed class DomainSet
{
    private readonly HashSet<string> _domains;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public DomainSet(IEnumerable<string> domains)
    {
        _domains = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string d in domains)
            _domains.Add(d.Trim().TrimEnd('.'));
        _lookup = _domains.GetAlternateLookup<ReadOnlySpan<char>>();
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
        return _lookup.Contains(domain);
    }
}
