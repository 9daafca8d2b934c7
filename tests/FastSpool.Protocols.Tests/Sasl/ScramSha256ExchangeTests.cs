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
    public void ChannelBindingIsRefusedWithoutPlus()
    {
        Assert.Equal(ScramStatus.ChannelBindingNotSupported, new ScramSha256Exchange().ReadClientFirst(B("p=tls-unique,,n=user,r=abc")));
        Assert.Equal(ScramStatus.ChannelBindingNotSupported,
            new ScramSha256Exchange(plus: false, Binding).ReadClientFirst(B("p=tls-server-end-point,,n=user,r=abc")));
    }

    // The tls-server-end-point data of some connection (RFC 5929 §4.1: a certificate's SHA-256).
    private static readonly byte[] Binding = System.Security.Cryptography.SHA256.HashData("a certificate"u8);

    /// <summary>The client's side of RFC 5802 §3 for the final message: <c>c=...,r=...,p=proof</c>.</summary>
    private static string ClientFinalFor(string password, ScramKeys keys, string clientFirstBare, string serverFirst, byte[] cbindInput)
    {
        string nonce = serverFirst.Split(',')[0][2..];
        string withoutProof = $"c={Convert.ToBase64String(cbindInput)},r={nonce}";
        byte[] authMessage = B($"{clientFirstBare},{serverFirst},{withoutProof}");
        byte[] salted = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2(B(password), keys.Salt, keys.Iterations,
            System.Security.Cryptography.HashAlgorithmName.SHA256, 32);
        byte[] clientKey = System.Security.Cryptography.HMACSHA256.HashData(salted, "Client Key"u8.ToArray());
        byte[] signature = System.Security.Cryptography.HMACSHA256.HashData(System.Security.Cryptography.SHA256.HashData(clientKey), authMessage);
        for (int i = 0; i < clientKey.Length; i++)
            clientKey[i] ^= signature[i];
        return $"{withoutProof},p={Convert.ToBase64String(clientKey)}";
    }

    [Fact]
    public void PlusWithThisConnectionsBindingSucceedsAndWithAnotherIsRefused()
    {
        const string gs2 = "p=tls-server-end-point,,";
        const string bare = "n=user,r=fyko+d2lbbFgONRv9qkxdawL";
        foreach ((byte[] sent, ScramStatus expected) in new[] { (Binding, ScramStatus.Ok), (System.Security.Cryptography.SHA256.HashData("another"u8), ScramStatus.ChannelBindingMismatch) })
        {
            var exchange = new ScramSha256Exchange(plus: true, Binding);
            Assert.Equal(ScramStatus.Ok, exchange.ReadClientFirst(B(gs2 + bare)));
            string serverFirst = Encoding.ASCII.GetString(exchange.WriteServerFirst(Pencil.Salt, Pencil.Iterations));
            string final = ClientFinalFor("pencil", Pencil, bare, serverFirst, [.. B(gs2), .. sent]);
            Assert.Equal(expected, exchange.ReadClientFinal(B(final), Pencil.StoredKey, Pencil.ServerKey, out byte[] serverFinal));
            Assert.Equal(expected == ScramStatus.Ok, serverFinal.Length > 0);
        }
    }

    [Fact]
    public void PlusRefusesAFinalMessageThatLeavesTheBindingDataOut()
    {
        const string gs2 = "p=tls-server-end-point,,";
        const string bare = "n=user,r=abcdef";
        var exchange = new ScramSha256Exchange(plus: true, Binding);
        exchange.ReadClientFirst(B(gs2 + bare));
        string serverFirst = Encoding.ASCII.GetString(exchange.WriteServerFirst(Pencil.Salt, Pencil.Iterations));
        string final = ClientFinalFor("pencil", Pencil, bare, serverFirst, B(gs2));
        Assert.Equal(ScramStatus.ChannelBindingMismatch, exchange.ReadClientFinal(B(final), Pencil.StoredKey, Pencil.ServerKey, out _));
    }

    [Theory]
    [InlineData(true, "n,,n=user,r=abc", ScramStatus.Malformed)]          // -PLUS without binding
    [InlineData(true, "y,,n=user,r=abc", ScramStatus.Malformed)]
    [InlineData(true, "p=tls-unique,,n=user,r=abc", ScramStatus.UnsupportedChannelBindingType)]
    [InlineData(true, "p=tls-exporter,,n=user,r=abc", ScramStatus.UnsupportedChannelBindingType)]
    [InlineData(true, "p=,,n=user,r=abc", ScramStatus.UnsupportedChannelBindingType)]
    [InlineData(false, "y,,n=user,r=abc", ScramStatus.Downgraded)]         // -PLUS was offered: 'y' is a downgrade
    [InlineData(false, "n,,n=user,r=abc", ScramStatus.Ok)]                 // a client that cannot bind
    [InlineData(true, "p=tls-server-end-point,,n=user,r=abc", ScramStatus.Ok)]
    public void TheGs2HeaderRulesOfRfc5802Section6AreKeptWherePlusIsOffered(bool plus, string first, ScramStatus expected)
    {
        Assert.Equal(expected, new ScramSha256Exchange(plus, Binding).ReadClientFirst(B(first)));
    }

    [Fact]
    public void YIsTakenWherePlusIsNotOffered() =>
        Assert.Equal(ScramStatus.Ok, new ScramSha256Exchange().ReadClientFirst(B("y,,n=user,r=abc")));

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
