using FastSpool.Users;
using Microsoft.Extensions.Time.Testing;

namespace FastSpool.Core.Tests.Users;

public sealed class PasswordVerifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fastspool-verifier-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ARightPasswordIsTakenAndWrongOnesAreNot()
    {
        var users = new UserStore(_dir);
        users.Add("alice", PasswordHasher.Hash("right"));
        users.Add("bob", null);
        var verifier = new PasswordVerifier(users, new FakeTimeProvider());

        Assert.True(verifier.Verify("alice", "right"));
        Assert.True(verifier.Verify("ALICE", "right")); // from the cache, under the other spelling of the name
        Assert.False(verifier.Verify("alice", "wrong"));
        Assert.False(verifier.Verify("alice", ""));
        Assert.False(verifier.Verify("bob", "right")); // receives mail only
        Assert.False(verifier.Verify("carol", "right"));
    }

    [Fact]
    public void AChangedPasswordMissesTheCache()
    {
        var users = new UserStore(_dir);
        users.Add("alice", PasswordHasher.Hash("old"));
        var verifier = new PasswordVerifier(users, new FakeTimeProvider());
        Assert.True(verifier.Verify("alice", "old"));

        users.SetPassword("alice", PasswordHasher.Hash("new"));

        Assert.False(verifier.Verify("alice", "old"));
        Assert.True(verifier.Verify("alice", "new"));
    }

    [Fact]
    public void AnOlderHashStillServesPasswordLogins()
    {
        var users = new UserStore(_dir);
        users.Add("alice", PasswordHasher.HashPbkdf2("old form"));
        var verifier = new PasswordVerifier(users, new FakeTimeProvider());
        Assert.True(verifier.Verify("alice", "old form"));
        Assert.False(verifier.Verify("alice", "old forM"));
    }
}
