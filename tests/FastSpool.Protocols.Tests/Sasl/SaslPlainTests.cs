using System.Text;
using FastSpool.Protocols.Sasl;

namespace FastSpool.Protocols.Tests.Sasl;

public sealed class SaslPlainTests
{
    private static byte[] Encode(string message) => Encoding.UTF8.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(message)));

    [Fact]
    public void DecodesTheThreeFields()
    {
        Span<byte> buffer = stackalloc byte[SaslPlain.MaxDecodedLength];
        Assert.Equal(SaslPlainStatus.Decoded, SaslPlain.TryDecode(Encode("admin\0alice\0sésame"), buffer, out SaslPlainCredentials c));
        Assert.Equal("admin", Encoding.UTF8.GetString(c.AuthorizationId));
        Assert.Equal("alice", Encoding.UTF8.GetString(c.AuthenticationId));
        Assert.Equal("sésame", Encoding.UTF8.GetString(c.Password));
    }

    [Fact]
    public void AnEmptyAuthorizationIdIsTheUsersOwn()
    {
        Span<byte> buffer = stackalloc byte[SaslPlain.MaxDecodedLength];
        Assert.Equal(SaslPlainStatus.Decoded, SaslPlain.TryDecode(Encode("\0alice\0secret"), buffer, out SaslPlainCredentials c));
        Assert.True(c.AuthorizationId.IsEmpty);
        Assert.Equal("secret", Encoding.UTF8.GetString(c.Password));
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("YWxpY2U")]          // unpadded
    [InlineData("YW=jZQ==")]         // padding inside
    [InlineData("YWxp Y2U=")]        // a space
    public void RefusesWhatIsNotBase64(string response)
    {
        byte[] buffer = new byte[SaslPlain.MaxDecodedLength];
        Assert.Equal(SaslPlainStatus.NotBase64, SaslPlain.TryDecode(Encoding.ASCII.GetBytes(response), buffer, out _));
    }

    [Theory]
    [InlineData("alice")]                 // no separator
    [InlineData("alice\0secret")]         // one separator
    [InlineData("\0\0secret")]            // no authcid
    [InlineData("\0alice\0")]             // no password
    [InlineData("\0alice\0sec\0ret")]     // a NUL in the password
    [InlineData("")]
    public void RefusesWhatIsNotAPlainMessage(string message)
    {
        byte[] buffer = new byte[SaslPlain.MaxDecodedLength];
        Assert.Equal(SaslPlainStatus.Malformed, SaslPlain.TryDecode(Encode(message), buffer, out _));
    }

    [Fact]
    public void RefusesFieldsLongerThan255Octets()
    {
        byte[] buffer = new byte[SaslPlain.MaxDecodedLength];
        Assert.Equal(SaslPlainStatus.Decoded, SaslPlain.TryDecode(Encode("\0alice\0" + new string('p', 255)), buffer, out _));
        Assert.Equal(SaslPlainStatus.Malformed, SaslPlain.TryDecode(Encode("\0alice\0" + new string('p', 256)), buffer, out _));
        Assert.Equal(SaslPlainStatus.Malformed, SaslPlain.TryDecode(Encode("\0" + new string('u', 256) + "\0secret"), buffer, out _));
    }

    [Fact]
    public void RefusesAResponseTooLongForAnyPlainMessage()
    {
        byte[] buffer = new byte[SaslPlain.MaxDecodedLength];
        byte[] longest = Encode(new string('z', 255) + "\0" + new string('u', 255) + "\0" + new string('p', 255));
        Assert.Equal(SaslPlain.MaxEncodedLength, longest.Length);
        Assert.Equal(SaslPlainStatus.Decoded, SaslPlain.TryDecode(longest, buffer, out _));
        Assert.Equal(SaslPlainStatus.NotBase64, SaslPlain.TryDecode(Encode(new string('x', SaslPlain.MaxDecodedLength + 3)), buffer, out _));
    }
}
