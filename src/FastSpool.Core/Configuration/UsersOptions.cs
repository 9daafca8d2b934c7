namespace FastSpool.Configuration;

/// <summary>Configuration section <c>Users</c>.</summary>
public sealed class UsersOptions
{
    /// <summary>Also deliver to the machine's login accounts, as sendmail did.</summary>
    public bool System { get; set; } = true;

    /// <summary>Where the login accounts are read from.</summary>
    public string PasswdFile { get; set; } = "/etc/passwd";

    /// <summary>Lowest uid, root aside, whose account receives mail (Debian's UID_MIN in login.defs).</summary>
    public int SystemMinUid { get; set; } = 1000;

    /// <summary>Highest uid whose account receives mail (Debian's UID_MAX): nobody (65534) and the daemons below
    /// <see cref="SystemMinUid"/> receive mail only through an alias.</summary>
    public int SystemMaxUid { get; set; } = 60000;

    /// <summary>The host's aliases(5) file, read with <see cref="System"/> after the users file and
    /// DataDirectory/aliases.</summary>
    public string SystemAliasesFile { get; set; } = "/etc/aliases";
}
