using System.Text;
using FastSpool.Protocols.Sasl;
using FastSpool.Users;

namespace FastSpool.Protocols.Tests.Sasl;

public sealed class ScramSha256ExchangeTests
{
    // RFC 7677 §3: user "user", password "pencil".
    private const string ClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    private const string ServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private const string ServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private const string ClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private const string ServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    private static readonly ScramKeys Pencil = ScramKeys.Derive("pencil", Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void TheRfc7677ExchangeSucceedsWithTheServerSignatureOfTheRfc()
    {
        var exchange = new ScramSha256Exchange(ServerNonce);
        Assert.Equal(ScramStatus.Ok, exchange.ReadClientFirst(B(ClientFirst)));
        Assert.Equal("user", exchange.UserName);
        Assert.Equal(ServerFirst, Encoding.ASCII.GetString(exchange.WriteServerFirst(Pencil.Salt, Pencil.Iterations)));
        Assert.Equal(ScramStatus.Ok, exchange.ReadClientFinal(B(ClientFinal), Pencil.StoredKey, Pencil.ServerKey, out byte[] final));
        Assert.Equal(ServerFinal, Encoding.ASCII.GetString(final));
    }

    [Fact]
    public void AnotherPasswordGivesAWrongProof()
    {
        ScramKeys other = ScramKeys.Derive("pencil2", Pencil.Salt, 4096);
        var exchange = new ScramSha256Exchange(ServerNonce);
        exchange.ReadClientFirst(B(ClientFirst));
        exchange.WriteServerFirst(other.Salt, other.Iterations);
        Assert.Equal(ScramStatus.WrongProof, exchange.ReadClientFinal(B(ClientFinal), other.StoredKey, other.ServerKey, out byte[] final));
        Assert.Empty(final);
    }

    [Theory]
    [InlineData("c=biws,r=rOprNGfwEbeRWgbNEkqO,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")] // the client's nonce only
    [InlineData("c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")] // another binding
    [InlineData("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")] // no proof
    [InlineData("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=not base64")]
    [InlineData("")]
    public void AFinalMessageThatDoesNotFollowTheFirstIsMalformed(string final)
    {
        var exchange = new ScramSha256Exchange(ServerNonce);
        exchange.ReadClientFirst(B(ClientFirst));
        exchange.WriteServerFirst(Pencil.Salt, Pencil.Iterations);
        Assert.Equal(ScramStatus.Malformed, exchange.ReadClientFinal(B(final), Pencil.StoredKey, Pencil.ServerKey, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("x,,n=user,r=abc")]
    [InlineData("n,,r=abc")]
    [InlineData("n,,n=,r=abc")]
    [InlineData("n,,n=user")]
    [InlineData("n,,n=user,r=")]
    [InlineData("n,,n=us=er,r=abc")] // '=' must be =3D
    [InlineData("n,a=bob,n=alice,r=abc")] // acting as another user
    public void AMalformedFirstMessageIsRefused(string first)
    {
        Assert.Equal(ScramStatus.Malformed, new ScramSha256Exchange().ReadClientFirst(B(first)));
    }

    [Fact]
    public void ChannelBindingIsRefusedAsNotOffered()
    {
        Assert.Equal(ScramStatus.ChannelBindingNotSupported, new ScramSha256Exchange().ReadClientFirst(B("p=tls-unique,,n=user,r=abc")));
    }

    [Fact]
    public void SaslNamesAreDecodedAndTheUsersOwnAuthzidIsAccepted()
    {
        var exchange = new ScramSha256Exchange();
        Assert.Equal(ScramStatus.Ok, exchange.ReadClientFirst(B("y,a=a=2Cb=3Dc,n=a=2Cb=3Dc,r=abc")));
        Assert.Equal("a,b=c", exchange.UserName);
    }

    [Fact]
    public void TheStoredFormRoundTripsAndChecksAPassword()
    {
        Assert.True(ScramKeys.TryParse(Pencil.Format(), out ScramKeys? read));
        Assert.Equal(Pencil.StoredKey, read.StoredKey);
        Assert.Equal(Pencil.ServerKey, read.ServerKey);
        Assert.True(read.Matches("pencil"));
        Assert.False(read.Matches("pencil "));
        Assert.True(PasswordHasher.Verify("pencil", Pencil.Format()));
    }
}
