using FastSpool.Users;

namespace FastSpool.Core.Tests.Users;

public sealed class UserNameTests
{
    [Theory]
    [InlineData("alice")]
    [InlineData("a")]
    [InlineData("0day")]
    [InlineData("first.last")]
    [InlineData("mail_admin-2")]
    [InlineData("Alice")]
    [InlineData("POSTMASTER")]
    [InlineData("a123456789012345678901234567890123456789012345678901234567890123")]
    public void AcceptsNamesThatAreSafeFileNames(string name)
    {
        Assert.True(UserName.IsValid(name));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("-rf")]
    [InlineData("_apt")]
    [InlineData("a/b")]
    [InlineData("../etc")]
    [InlineData("a b")]
    [InlineData("a@b")]
    [InlineData("a+tag")]
    [InlineData("a:b")]
    [InlineData("alice.lock")]
    [InlineData("bob.LOCK")]
    [InlineData("a\0")]
    [InlineData("jörg")]
    [InlineData("\u212Aelvin")] // Kelvin sign: would fold to 'k' under Unicode rules, not under ASCII ones
    [InlineData("a1234567890123456789012345678901234567890123456789012345678901234")]
    public void RejectsNamesThatAreNotSafeFileNames(string name)
    {
        Assert.False(UserName.IsValid(name));
    }

    [Fact]
    public void NormalizeLowercasesValidNames()
    {
        Assert.True(UserName.TryNormalize("Mail.Admin", out string? normalized));
        Assert.Equal("mail.admin", normalized);
    }

    [Fact]
    public void NormalizeRefusesInvalidNames()
    {
        Assert.False(UserName.TryNormalize("../root", out string? normalized));
        Assert.Null(normalized);
    }
}
