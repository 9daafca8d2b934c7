using System.Globalization;

namespace FastSpool.Server.Tests.Support;

/// <summary>A real login account of this machine, made with useradd under a unique name and removed with userdel on
/// dispose, that can run a command as itself (setpriv, no other groups), as a user reading their mail would.</summary>
internal sealed class LoginAccount : IDisposable
{
    private LoginAccount(string name, uint userId, uint groupId)
    {
        Name = name;
        UserId = userId;
        GroupId = groupId;
    }

    public string Name { get; }

    public uint UserId { get; }

    public uint GroupId { get; }

    /// <param name="uid">A uid to ask for; useradd chooses one in login.defs' range when null.</param>
    public static LoginAccount Create(int? uid = null)
    {
        string name = "fst" + Guid.NewGuid().ToString("N")[..10];
        string[] arguments = uid is { } id
            ? ["--no-create-home", "--shell", "/usr/sbin/nologin", "--uid", id.ToString(CultureInfo.InvariantCulture), name]
            : ["--no-create-home", "--shell", "/usr/sbin/nologin", name];
        Tool.RunOrFail("useradd", arguments);
        return new LoginAccount(name, Id("-u", name), Id("-g", name));
    }

    private static uint Id(string which, string name)
    {
        (int exitCode, string output) = Tool.Run("id", which, name);
        Assert.True(exitCode == 0, $"id {which} {name}: {output}");
        return uint.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Runs <paramref name="command"/> as this account, with its uid and gid only, in
    /// <paramref name="home"/> (which mutt needs to be writable).</summary>
    public (int ExitCode, string Output) Run(string home, params string[] command) =>
        Tool.Run("setpriv", [$"--reuid={UserId}", $"--regid={GroupId}", "--clear-groups", "env", $"HOME={home}", "SHELL=/bin/sh", .. command]);

    public void Dispose() => Tool.Run("userdel", Name);
}
