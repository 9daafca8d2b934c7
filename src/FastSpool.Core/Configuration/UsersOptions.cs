namespace FastSpool.Configuration;

/// <summary>Configuration section <c>Users</c>.</summary>
public sealed class UsersOptions
{
    /// <summary>Also deliver to the machine's login accounts, as sendmail did.</summary>
    public bool System { get; set; } = true;

    /// <summary>Where the login accounts are read from.</summary>
    public string PasswdFile { get; set; } = "/etc/passwd";
}
