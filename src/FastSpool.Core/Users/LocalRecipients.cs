using System.Collections.Concurrent;

namespace FastSpool.Users;

/// <summary>Which local parts this server accepts and where their mail goes: <c>postmaster</c> always
/// (RFC 5321 section 4.5.1), mail users, aliases and, when enabled, the machine's accounts and the host's aliases.
/// A name is looked up in the data directory's aliases, then the users, then the host's aliases, then the
/// accounts.</summary>
public sealed class LocalRecipients
{
    private readonly UserStore _users;
    private readonly AliasTable _aliases;
    private readonly AliasTable? _systemAliases;
    private readonly SystemAccounts? _systemAccounts;
    private readonly bool _remoteDeliverable;
    private readonly Func<string, bool> _systemAliasApplies;
    private readonly Func<string, bool, bool> _isMailbox;
    private readonly ConcurrentDictionary<string, CachedResolution> _resolved = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CachedResolution>.AlternateLookup<ReadOnlySpan<char>> _resolvedBySpan;

    /// <summary>Resolutions remembered at most; the cache starts over beyond it.</summary>
    internal const int MaxCachedResolutions = 4096;

    /// <param name="systemUsers">Whether accounts in <paramref name="systemAccounts"/> receive mail, and
    /// <paramref name="systemAliases"/> count.</param>
    /// <param name="remoteDeliverable">Whether remote alias targets can be sent on (a relay is configured).</param>
    public LocalRecipients(UserStore users, AliasTable aliases, SystemAccounts? systemAccounts, bool systemUsers,
        AliasTable? systemAliases = null, bool remoteDeliverable = false)
    {
        if (systemUsers && systemAccounts is null)
            throw new ArgumentException("system users are enabled but no system accounts were given", nameof(systemAccounts));
        _users = users;
        _aliases = aliases;
        _systemAccounts = systemUsers ? systemAccounts : null;
        _systemAliases = systemUsers ? systemAliases : null;
        _remoteDeliverable = remoteDeliverable;
        _systemAliasApplies = name => !_users.Contains(name.AsSpan());
        _isMailbox = (name, viaAlias) => viaAlias ? IsMailboxOrAccount(name) : IsLocalMailbox(name);
        _resolvedBySpan = _resolved.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The RCPT check: is there a mailbox or an alias for this local part that leads somewhere? Does not
    /// allocate once an alias's expansion is known. A name not found is looked for again in files that changed
    /// a moment ago, so that a user just added is deliverable at once.</summary>
    public bool IsDeliverable(ReadOnlySpan<byte> localPartUtf8) => Check(localPartUtf8) == LocalPartCheck.Deliverable;

    /// <inheritdoc cref="IsDeliverable"/>
    public LocalPartCheck Check(ReadOnlySpan<byte> localPartUtf8)
    {
        Span<char> buffer = stackalloc char[UserName.MaxLength];
        if (!UserName.TryDecode(localPartUtf8, buffer, out int length))
            return LocalPartCheck.Unknown;
        ReadOnlySpan<char> name = buffer[..length];
        LocalPartCheck check = CheckName(name);
        if (check != LocalPartCheck.Unknown)
            return check;
        CheckFiles();
        return CheckName(name);
    }

    /// <summary>Reads again, now, every file that changed since it was last read.</summary>
    public void CheckFiles()
    {
        _users.CheckNow();
        _aliases.CheckNow();
        _systemAliases?.CheckNow();
        _systemAccounts?.CheckNow();
    }

    private LocalPartCheck CheckName(ReadOnlySpan<char> name)
    {
        if (!IsAlias(name))
            return IsLocalMailbox(name) ? LocalPartCheck.Deliverable : LocalPartCheck.Unknown;
        RecipientResolution resolution = Resolve(name);
        if (resolution.Mailboxes.Count > 0 || (_remoteDeliverable && resolution.RemoteAddresses.Count > 0))
            return LocalPartCheck.Deliverable;
        if (resolution.LoopFound)
            return LocalPartCheck.AliasLoop;
        return resolution.RemoteAddresses.Count > 0 ? LocalPartCheck.AliasOnlyRemote : LocalPartCheck.AliasToNobody;
    }

    private bool IsAlias(ReadOnlySpan<char> name) =>
        _aliases.Contains(name) || (_systemAliases is not null && _systemAliases.Contains(name) && !_users.Contains(name));

    /// <summary>True when <paramref name="name"/> has a mailbox of its own, aliases aside: postmaster, a user, or
    /// an account that receives mail (root, or a uid in the configured range). Does not allocate.</summary>
    public bool IsLocalMailbox(ReadOnlySpan<char> name) =>
        UserName.IsValid(name)
        && (name.Equals(UserName.Postmaster, StringComparison.OrdinalIgnoreCase)
            || _users.Contains(name)
            || (_systemAccounts?.IsRecipient(name) ?? false));

    /// <summary>An alias may lead to any account, a daemon's included: the administrator named it.</summary>
    private bool IsMailboxOrAccount(string name) => IsLocalMailbox(name) || (_systemAccounts?.Contains(name) ?? false);

    /// <summary>The uid of the login account that owns mailbox <paramref name="mailbox"/>; false for the mailboxes
    /// of users and of postmaster, which belong to the server.</summary>
    public bool TryGetAccountUserId(string mailbox, out int uid)
    {
        uid = -1;
        return _systemAccounts is not null && !_users.Contains(mailbox.AsSpan())
            && _systemAccounts.TryGetUserId(mailbox, out uid);
    }

    /// <summary>The mailboxes and remote addresses that mail for <paramref name="localPart"/> goes to; empty, with
    /// <see cref="RecipientResolution.Reason"/>, for an unknown name.</summary>
    public RecipientResolution Resolve(string localPart) => Resolve(localPart.AsSpan());

    /// <summary>As <see cref="Resolve(string)"/>; the answer is remembered until the users, aliases or accounts
    /// file is read again, so that resolving the same recipient for every message allocates nothing.</summary>
    public RecipientResolution Resolve(ReadOnlySpan<char> localPart)
    {
        object users = _users.Snapshot, aliases = _aliases.Snapshot;
        object? accounts = _systemAccounts?.Snapshot, systemAliases = _systemAliases?.Snapshot;
        if (_resolvedBySpan.TryGetValue(localPart, out CachedResolution? cached)
            && ReferenceEquals(cached.Users, users) && ReferenceEquals(cached.Aliases, aliases)
            && ReferenceEquals(cached.Accounts, accounts) && ReferenceEquals(cached.SystemAliases, systemAliases))
        {
            return cached.Resolution;
        }
        string name = localPart.ToString();
        RecipientResolution resolution = ResolveNow(name);
        if (_resolved.Count >= MaxCachedResolutions)
            _resolved.Clear();
        _resolved[name] = new CachedResolution(users, aliases, accounts, systemAliases, resolution);
        return resolution;
    }

    private sealed record CachedResolution(object Users, object Aliases, object? Accounts, object? SystemAliases, RecipientResolution Resolution);

    private RecipientResolution ResolveNow(string localPart)
    {
        RecipientResolution resolution = _aliases.Expand(localPart, _systemAliases, _systemAliasApplies, _isMailbox);
        // Mail to postmaster must always land somewhere, even when its alias leads nowhere.
        if (resolution.IsEmpty && localPart.Equals(UserName.Postmaster, StringComparison.OrdinalIgnoreCase))
            return new RecipientResolution(localPart, [UserName.Postmaster], [], resolution.Problems);
        return resolution;
    }
}
