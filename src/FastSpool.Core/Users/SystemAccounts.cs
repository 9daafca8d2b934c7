using System.Globalization;

namespace FastSpool.Users;

/// <summary>The machine's accounts from a passwd(5) file, reloaded when it changes. Only names that are already
/// valid, lowercase <see cref="UserName"/>s count: any other account could not have a safe mailbox file name.</summary>
public sealed class SystemAccounts
{
    public const string DefaultPasswdPath = "/etc/passwd";

    private readonly ReloadingFile<NameTable<int>> _file;

    /// <exception cref="IOException">The passwd file exists but cannot be read.</exception>
    public SystemAccounts(string passwdPath = DefaultPasswdPath)
        : this(passwdPath, ReloadingFile<NameTable<int>>.DefaultCheckInterval)
    {
    }

    internal SystemAccounts(string passwdPath, TimeSpan checkInterval) =>
        _file = new ReloadingFile<NameTable<int>>(Path.GetFullPath(passwdPath), Parse, checkInterval);

    public string FilePath => _file.Path;

    /// <summary>ASCII case-insensitive; does not allocate.</summary>
    public bool Contains(ReadOnlySpan<byte> localPartUtf8) => _file.Value.Contains(localPartUtf8);

    public bool Contains(ReadOnlySpan<char> name) => _file.Value.Contains(name);

    /// <summary>The snapshot now in use; another instance once the file was read again.</summary>
    internal object Snapshot => _file.Value;

    /// <summary>Reads the file now instead of at the next check.</summary>
    public void Refresh() => _file.Refresh();

    /// <summary>Account names mapped to their uid; malformed lines and NIS <c>+</c>/<c>-</c> entries are skipped.</summary>
    private static NameTable<int> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return NameTable<int>.Empty;
        var accounts = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        // name:password:uid:gid:gecos:home:shell
        Span<Range> fields = stackalloc Range[4];
        foreach (ReadOnlySpan<char> line in text.AsSpan().EnumerateLines())
        {
            if (line.Split(fields, ':') < 4)
                continue;
            ReadOnlySpan<char> name = line[fields[0]];
            if (!UserName.IsValid(name) || name.ContainsAnyInRange('A', 'Z')
                || !int.TryParse(line[fields[2]], NumberStyles.None, CultureInfo.InvariantCulture, out int uid))
                continue;
            accounts.TryAdd(name.ToString(), uid);
        }
        return new NameTable<int>(accounts, []);
    }
}
