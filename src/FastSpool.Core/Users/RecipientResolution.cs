namespace FastSpool.Users;

/// <summary>Where mail for one local part goes: local mailboxes (valid, lowercase <see cref="UserName"/>s) and
/// remote addresses, each once. Targets that had to be dropped are listed in <see cref="Problems"/>.</summary>
public sealed class RecipientResolution
{
    internal RecipientResolution(
        string localPart, IReadOnlyList<string> mailboxes, IReadOnlyList<string> remoteAddresses, IReadOnlyList<string> problems)
    {
        LocalPart = localPart;
        Mailboxes = mailboxes;
        RemoteAddresses = remoteAddresses;
        Problems = problems;
    }

    /// <summary>The local part that was resolved, as given.</summary>
    public string LocalPart { get; }

    public IReadOnlyList<string> Mailboxes { get; }

    /// <summary>Addresses <c>user@domain</c> from aliases, as written there.</summary>
    public IReadOnlyList<string> RemoteAddresses { get; }

    /// <summary>Why targets were dropped: unknown users, alias loops, nesting too deep.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>True when an alias led back to itself somewhere in the expansion.</summary>
    public bool LoopFound { get; init; }

    /// <summary>True when there is nowhere to deliver; <see cref="Reason"/> then says why.</summary>
    public bool IsEmpty => Mailboxes.Count == 0 && RemoteAddresses.Count == 0;

    public string? Reason =>
        !IsEmpty ? null
        : Problems.Count > 0 ? string.Join("; ", Problems)
        : $"'{LocalPart}' expands to no recipients";
}
