using System.Globalization;

namespace FastSpool.Users;

/// <summary>The machine's accounts from a passwd(5) file, reloaded when it changes. Only names that are already
/// valid, lowercase <see cref="UserName"/>s count: any other account could not have a safe mailbox file name.
/// Of those, root and the accounts with a uid from <see cref="MinUserId"/> to <see cref="MaxUserId"/> (people,
/// as login.defs counts them) receive mail under their own name; the others (daemon, www-data, nobody) only when
/// an alias leads to them.</summary>
public sealed class SystemAccounts
{
    public const string DefaultPasswdPath = "/etc/passwd";
    public const int DefaultMinUserId = 1000;
    public const int DefaultMaxUserId = 60000;

    private readonly ReloadingFile<NameTable<int>> _file;

    /// <exception cref="IOException">The passwd file exists but cannot be read.</exception>
    public SystemAccounts(string passwdPath = DefaultPasswdPath, int minUserId = DefaultMinUserId, int maxUserId = DefaultMaxUserId)
        : this(passwdPath, ReloadingFile<NameTable<int>>.DefaultCheckInterval, minUserId, maxUserId)
    {
    }

    internal SystemAccounts(string passwdPath, TimeSpan checkInterval, int minUserId = DefaultMinUserId, int maxUserId = DefaultMaxUserId)
    {
        MinUserId = minUserId;
        MaxUserId = maxUserId;
        _file = new ReloadingFile<NameTable<int>>(Path.GetFullPath(passwdPath), Parse, checkInterval);
    }

    public string FilePath => _file.Path;

    public int MinUserId { get; }

    public int MaxUserId { get; }

    /// <summary>True for every account, whatever its uid. ASCII case-insensitive; does not allocate.</summary>
    public bool Contains(ReadOnlySpan<byte> localPartUtf8) => _file.Value.Contains(localPartUtf8);

    /// <inheritdoc cref="Contains(ReadOnlySpan{byte})"/>
    public bool Contains(ReadOnlySpan<char> name) => _file.Value.Contains(name);

    /// <summary>True for root and the accounts in the uid range: those that receive mail under their own name.
    /// Does not allocate.</summary>
    public bool IsRecipient(ReadOnlySpan<char> name) =>
        _file.Value.TryGetValue(name, out int uid) && (uid == 0 || (uid >= MinUserId && uid <= MaxUserId));

    /// <summary>The uid of an account, whatever its range: the owner its mailbox is given to.</summary>
    public bool TryGetUserId(ReadOnlySpan<char> name, out int uid) => _file.Value.TryGetValue(name, out uid);

    /// <summary>Reads the file when it changed since the last check, whenever that was.</summary>
    internal void CheckNow() => _file.CheckNow();

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
