namespace FastSpool.Users;

/// <summary>Which local parts this server accepts and where their mail goes: <c>postmaster</c> always
/// (RFC 5321 section 4.5.1), mail users, aliases and, when enabled, the machine's accounts.</summary>
public sealed class LocalRecipients
{
    private readonly UserStore _users;
    private readonly AliasTable _aliases;
    private readonly SystemAccounts? _systemAccounts;
    private readonly Func<string, bool> _isLocalMailbox;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CachedResolution> _resolved = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CachedResolution>.AlternateLookup<ReadOnlySpan<char>> _resolvedBySpan;

    /// <summary>Resolutions remembered at most; the cache starts over beyond it.</summary>
    internal const int MaxCachedResolutions = 4096;

    /// <param name="systemUsers">Whether accounts in <paramref name="systemAccounts"/> receive mail.</param>
    public LocalRecipients(UserStore users, AliasTable aliases, SystemAccounts? systemAccounts, bool systemUsers)
    {
        if (systemUsers && systemAccounts is null)
            throw new ArgumentException("system users are enabled but no system accounts were given", nameof(systemAccounts));
        _users = users;
        _aliases = aliases;
        _systemAccounts = systemUsers ? systemAccounts : null;
        _isLocalMailbox = name => IsLocalMailbox(name);
        _resolvedBySpan = _resolved.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The RCPT check: is there a mailbox or alias for this local part? Does not allocate. An alias whose
    /// targets have all gone away still counts here; <see cref="Resolve"/> then reports why it yields nothing.</summary>
    public bool IsDeliverable(ReadOnlySpan<byte> localPartUtf8)
    {
        Span<char> buffer = stackalloc char[UserName.MaxLength];
        if (!UserName.TryDecode(localPartUtf8, buffer, out int length))
            return false;
        ReadOnlySpan<char> name = buffer[..length];
        return _aliases.Contains(name) || IsLocalMailbox(name);
    }

    /// <summary>True when <paramref name="name"/> has a mailbox of its own, aliases aside. Does not allocate.</summary>
    public bool IsLocalMailbox(ReadOnlySpan<char> name) =>
        UserName.IsValid(name)
        && (name.Equals(UserName.Postmaster, StringComparison.OrdinalIgnoreCase)
            || _users.Contains(name)
            || (_systemAccounts?.Contains(name) ?? false));

    /// <summary>The mailboxes and remote addresses that mail for <paramref name="localPart"/> goes to; empty, with
    /// <see cref="RecipientResolution.Reason"/>, for an unknown name.</summary>
    public RecipientResolution Resolve(string localPart) => Resolve(localPart.AsSpan());

    /// <summary>As <see cref="Resolve(string)"/>; the answer is remembered until the users, aliases or accounts
    /// file is read again, so that resolving the same recipient for every message allocates nothing.</summary>
    public RecipientResolution Resolve(ReadOnlySpan<char> localPart)
    {
        object users = _users.Snapshot, aliases = _aliases.Snapshot;
        object? accounts = _systemAccounts?.Snapshot;
        if (_resolvedBySpan.TryGetValue(localPart, out CachedResolution? cached)
            && ReferenceEquals(cached.Users, users) && ReferenceEquals(cached.Aliases, aliases) && ReferenceEquals(cached.Accounts, accounts))
        {
            return cached.Resolution;
        }
        string name = localPart.ToString();
        RecipientResolution resolution = ResolveNow(name);
        if (_resolved.Count >= MaxCachedResolutions)
            _resolved.Clear();
        _resolved[name] = new CachedResolution(users, aliases, accounts, resolution);
        return resolution;
    }

    private sealed record CachedResolution(object Users, object Aliases, object? Accounts, RecipientResolution Resolution);

    private RecipientResolution ResolveNow(string localPart)
    {
        RecipientResolution resolution = _aliases.Expand(localPart, _isLocalMailbox);
        // Mail to postmaster must always land somewhere, even when its alias leads nowhere.
        if (resolution.IsEmpty && localPart.Equals(UserName.Postmaster, StringComparison.OrdinalIgnoreCase))
            return new RecipientResolution(localPart, [UserName.Postmaster], [], resolution.Problems);
        return resolution;
    }
}
