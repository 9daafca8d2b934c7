namespace FastSpool.Users;

/// <summary>Which local parts this server accepts and where their mail goes: <c>postmaster</c> always
/// (RFC 5321 section 4.5.1), mail users, aliases and, when enabled, the machine's accounts.</summary>
public sealed class LocalRecipients
{
    private readonly UserStore _users;
    private readonly AliasTable _aliases;
    private readonly SystemAccounts? _systemAccounts;
    private readonly Func<string, bool> _isLocalMailbox;

    /// <param name="systemUsers">Whether accounts in <paramref name="systemAccounts"/> receive mail.</param>
    public LocalRecipients(UserStore users, AliasTable aliases, SystemAccounts? systemAccounts, bool systemUsers)
    {
        if (systemUsers && systemAccounts is null)
            throw new ArgumentException("system users are enabled but no system accounts were given", nameof(systemAccounts));
        _users = users;
        _aliases = aliases;
        _systemAccounts = systemUsers ? systemAccounts : null;
        _isLocalMailbox = name => IsLocalMailbox(name);
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
    public RecipientResolution Resolve(string localPart)
    {
        RecipientResolution resolution = _aliases.Expand(localPart, _isLocalMailbox);
        // Mail to postmaster must always land somewhere, even when its alias leads nowhere.
        if (resolution.IsEmpty && localPart.Equals(UserName.Postmaster, StringComparison.OrdinalIgnoreCase))
            return new RecipientResolution(localPart, [UserName.Postmaster], [], resolution.Problems);
        return resolution;
    }
}
