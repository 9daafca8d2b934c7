namespace FastSpool.Users;

/// <summary>The aliases(5) file <c>&lt;dataDirectory&gt;/aliases</c> (a missing file means no aliases), reloaded
/// when it changes. Targets are local names, <c>\name</c> (that mailbox, not expanded further) or remote
/// <c>user@domain</c> addresses; command, file and include targets are skipped and listed in
/// <see cref="Warnings"/>, never run.</summary>
public sealed class AliasTable
{
    public const string FileName = AliasFileParser.FileName;

    /// <summary>How many aliases deep an expansion may go, as in sendmail's MAXRCRSN.</summary>
    public const int MaxDepth = 20;

    private readonly ReloadingFile<NameTable<string[]>> _file;

    /// <exception cref="IOException">The aliases file exists but cannot be read.</exception>
    public AliasTable(string dataDirectory)
        : this(dataDirectory, ReloadingFile<NameTable<string[]>>.DefaultCheckInterval)
    {
    }

    internal AliasTable(string dataDirectory, TimeSpan checkInterval) =>
        _file = new ReloadingFile<NameTable<string[]>>(
            Path.GetFullPath(Path.Combine(dataDirectory, FileName)), AliasFileParser.Parse, checkInterval);

    public string FilePath => _file.Path;

    /// <summary>Entries and targets that were skipped, with line numbers.</summary>
    public IReadOnlyList<string> Warnings => _file.Value.Warnings;

    /// <summary>The alias names, lowercase, in ordinal order.</summary>
    public IReadOnlyList<string> Names => _file.Value.Names;

    /// <summary>ASCII case-insensitive; does not allocate.</summary>
    public bool Contains(ReadOnlySpan<byte> localPartUtf8) => _file.Value.Contains(localPartUtf8);

    public bool Contains(ReadOnlySpan<char> name) => _file.Value.Contains(name);

    /// <summary>The snapshot now in use; another instance once the file was read again.</summary>
    internal object Snapshot => _file.Value;

    /// <summary>Reads the file now instead of at the next check.</summary>
    public void Refresh() => _file.Refresh();

    /// <summary>Expands <paramref name="localPart"/> recursively. A name that is not an alias stands for the
    /// mailbox of that name.</summary>
    /// <param name="isLocalMailbox">Decides whether a local name (valid and lowercase) has a mailbox; names it
    /// refuses are dropped and reported. Null accepts every valid name.</param>
    public RecipientResolution Expand(string localPart, Func<string, bool>? isLocalMailbox = null)
    {
        if (!UserName.TryNormalize(localPart, out string? name))
            return new RecipientResolution(localPart, [], [], [$"'{localPart}' is not a valid mailbox name"]);
        var expansion = new AliasExpansion(_file.Value, isLocalMailbox);
        expansion.Run(name);
        return expansion.ToResult(localPart);
    }
}
