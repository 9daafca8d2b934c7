namespace FastSpool.Users;

/// <summary>One recursive expansion of an alias, depth first. An alias that names itself delivers to the mailbox of
/// that name (sendmail's self-reference); a longer cycle is a loop and is reported; an alias reached again by another
/// path has already contributed its targets and is not expanded twice, which keeps the work linear. A name is looked
/// up in the first table, then in the fallback (the host's aliases) when that applies to it.</summary>
internal sealed class AliasExpansion
{
    private readonly NameTable<string[]> _aliases;
    private readonly NameTable<string[]>? _fallback;
    private readonly Func<string, bool>? _fallbackApplies;
    private readonly Func<string, bool, bool>? _isMailbox;
    private readonly List<string> _path = [];
    private readonly HashSet<string> _expanded = new(StringComparer.Ordinal);
    private readonly List<string> _mailboxes = [];
    private readonly HashSet<string> _mailboxSet = new(StringComparer.Ordinal);
    private readonly List<string> _remote = [];
    private readonly HashSet<string> _remoteSet = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _problems = [];

    private bool _loop;

    /// <param name="isMailbox">Whether a name has a mailbox; the second argument is true when the name was reached
    /// through an alias. Null accepts every valid name.</param>
    public AliasExpansion(NameTable<string[]> aliases, NameTable<string[]>? fallback, Func<string, bool>? fallbackApplies,
        Func<string, bool, bool>? isMailbox)
    {
        _aliases = aliases;
        _fallback = fallback;
        _fallbackApplies = fallbackApplies;
        _isMailbox = isMailbox;
    }

    /// <param name="name">A valid, lowercase name.</param>
    public void Run(string name) => ExpandName(name);

    public RecipientResolution ToResult(string localPart) =>
        new(localPart, _mailboxes.ToArray(), _remote.ToArray(), _problems.ToArray()) { LoopFound = _loop };

    private bool TryGetTargets(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string[]? targets)
    {
        if (_aliases.TryGetValue(name, out targets))
            return true;
        return _fallback is not null && (_fallbackApplies?.Invoke(name) ?? true) && _fallback.TryGetValue(name, out targets);
    }

    private void ExpandName(string name)
    {
        if (!TryGetTargets(name, out string[]? targets))
        {
            AddMailbox(name);
            return;
        }
        if (_expanded.Contains(name))
            return;
        if (_path.Count >= AliasTable.MaxDepth)
        {
            _problems.Add($"alias '{name}' is nested more than {AliasTable.MaxDepth} aliases deep: {string.Join(" -> ", _path)} -> {name}");
            return;
        }

        _path.Add(name);
        foreach (string target in targets)
        {
            if (target[0] == '\\')
                AddMailbox(target[1..]);
            else if (target.Contains('@'))
                AddRemote(target);
            else if (target == name)
                AddMailbox(name);
            else if (_path.Contains(target))
            {
                _loop = true;
                _problems.Add($"alias loop: {string.Join(" -> ", _path)} -> {target}");
            }
            else
                ExpandName(target);
        }
        _path.RemoveAt(_path.Count - 1);
        _expanded.Add(name);
    }

    private void AddMailbox(string name)
    {
        if (_isMailbox is not null && !_isMailbox(name, _path.Count > 0))
        {
            _problems.Add(_path.Count == 0
                ? $"no such user '{name}'"
                : $"no such user '{name}' (from alias '{_path[^1]}')");
            return;
        }
        if (_mailboxSet.Add(name))
            _mailboxes.Add(name);
    }

    private void AddRemote(string address)
    {
        if (_remoteSet.Add(address))
            _remote.Add(address);
    }
}
