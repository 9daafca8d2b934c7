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
    public void AnUnknownUserOrOneWithoutAPasswordCostsWhatAWrongPasswordCosts()
    {
        var users = new UserStore(_dir);
        users.Add("alice", PasswordHasher.Hash("right"));
        users.Add("bob", null);
        var verifier = new PasswordVerifier(users, new FakeTimeProvider());
        Assert.False(verifier.Verify("carol", "warm-up")); // the stand-in hash is made once

        // CPU time, the least of three: a wrong password is one PBKDF2 of 210,000 rounds (tens of milliseconds); a user
        // that does not exist used to fail at once (microseconds). A quarter leaves room for any scheduling.
        TimeSpan wrong = Least(() => verifier.Verify("alice", "wrong"));
        TimeSpan unknown = Least(() => verifier.Verify("carol", "wrong"));
        TimeSpan noPassword = Least(() => verifier.Verify("bob", "wrong"));
        Assert.True(unknown > wrong / 4, $"an unknown user failed in {unknown.TotalMilliseconds} ms, a wrong password in {wrong.TotalMilliseconds} ms");
        Assert.True(noPassword > wrong / 4, $"a user without a password failed in {noPassword.TotalMilliseconds} ms, a wrong password in {wrong.TotalMilliseconds} ms");

        static TimeSpan Least(Func<bool> verify)
        {
            TimeSpan least = TimeSpan.MaxValue;
            for (int i = 0; i < 3; i++)
            {
                TimeSpan before = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
                Assert.False(verify());
                TimeSpan spent = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - before;
                least = spent < least ? spent : least;
            }
            return least;
        }
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
