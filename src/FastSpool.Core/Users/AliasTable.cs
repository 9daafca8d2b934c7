namespace FastSpool.Users;

/// <summary>An aliases(5) file, <c>&lt;dataDirectory&gt;/aliases</c> or the host's <c>/etc/aliases</c> (a missing
/// file means no aliases), reloaded when it changes. Targets are local names, <c>\name</c> (that mailbox, not
/// expanded further) or remote <c>user@domain</c> addresses; command, file and include targets are skipped and
/// listed in <see cref="Warnings"/>, never run.</summary>
public sealed class AliasTable
{
    public const string FileName = AliasFileParser.FileName;

    /// <summary>How many aliases deep an expansion may go, as in sendmail's MAXRCRSN.</summary>
    public const int MaxDepth = 20;

    private readonly ReloadingFile<NameTable<string[]>> _file;

    /// <summary>The aliases of the data directory.</summary>
    /// <param name="loaded">Told of every reading of the file (its path, the number of aliases, the problems
    /// found), the first included.</param>
    /// <exception cref="IOException">The aliases file exists but cannot be read.</exception>
    public AliasTable(string dataDirectory, Action<string, int, IReadOnlyList<string>>? loaded = null)
        : this(Path.Combine(dataDirectory, FileName), ReloadingFile<NameTable<string[]>>.DefaultCheckInterval, loaded)
    {
    }

    internal AliasTable(string dataDirectory, TimeSpan checkInterval)
        : this(Path.Combine(dataDirectory, FileName), checkInterval, null)
    {
    }

    private AliasTable(string filePath, TimeSpan checkInterval, Action<string, int, IReadOnlyList<string>>? loaded)
    {
        string path = Path.GetFullPath(filePath);
        _file = new ReloadingFile<NameTable<string[]>>(path, text => AliasFileParser.Parse(text, path), checkInterval,
            loaded is null ? null : table => loaded(path, table.Names.Count, table.Warnings));
    }

    /// <summary>The aliases of another file, such as the host's <c>/etc/aliases</c>.</summary>
    /// <inheritdoc cref="AliasTable(string, Action{string, int, IReadOnlyList{string}}?)"/>
    public static AliasTable FromFile(string path, Action<string, int, IReadOnlyList<string>>? loaded = null) =>
        new(path, ReloadingFile<NameTable<string[]>>.DefaultCheckInterval, loaded);

    public string FilePath => _file.Path;

    /// <summary>Entries and targets that were skipped, with the file's path and line numbers.</summary>
    public IReadOnlyList<string> Warnings => _file.Value.Warnings;

    /// <summary>The alias names, lowercase, in ordinal order.</summary>
    public IReadOnlyList<string> Names => _file.Value.Names;

    /// <summary>ASCII case-insensitive; does not allocate.</summary>
    public bool Contains(ReadOnlySpan<byte> localPartUtf8) => _file.Value.Contains(localPartUtf8);

    public bool Contains(ReadOnlySpan<char> name) => _file.Value.Contains(name);

    /// <summary>The snapshot now in use; another instance once the file was read again.</summary>
    internal NameTable<string[]> Snapshot => _file.Value;

    /// <summary>Reads the file now instead of at the next check.</summary>
    public void Refresh() => _file.Refresh();

    /// <summary>Reads the file when it changed since the last check, whenever that was.</summary>
    internal void CheckNow() => _file.CheckNow();

    /// <summary>Expands <paramref name="localPart"/> recursively. A name that is not an alias stands for the
    /// mailbox of that name.</summary>
    /// <param name="isLocalMailbox">Decides whether a local name (valid and lowercase) has a mailbox; names it
    /// refuses are dropped and reported. Null accepts every valid name.</param>
    public RecipientResolution Expand(string localPart, Func<string, bool>? isLocalMailbox = null) =>
        Expand(localPart, fallback: null, fallbackApplies: null,
            isLocalMailbox is null ? null : (name, _) => isLocalMailbox(name));

    /// <summary>Expands through this table and then <paramref name="fallback"/> (the host's aliases), for names
    /// <paramref name="fallbackApplies"/> to.</summary>
    /// <param name="isMailbox">Decides whether a name has a mailbox; its second argument tells whether the name
    /// was reached through an alias rather than asked for directly.</param>
    internal RecipientResolution Expand(string localPart, AliasTable? fallback, Func<string, bool>? fallbackApplies,
        Func<string, bool, bool>? isMailbox)
    {
        if (!UserName.TryNormalize(localPart, out string? name))
            return new RecipientResolution(localPart, [], [], [$"'{localPart}' is not a valid mailbox name"]);
        var expansion = new AliasExpansion(Snapshot, fallback?.Snapshot, fallbackApplies, isMailbox);
        expansion.Run(name);
        return expansion.ToResult(localPart);
    }
}
