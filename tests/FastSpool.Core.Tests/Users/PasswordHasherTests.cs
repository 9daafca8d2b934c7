using FastSpool.Users;

namespace FastSpool.Core.Tests.Users;

public sealed class PasswordHasherTests
{
    [Fact]
    public void HashHasTheDocumentedFormat()
    {
        string[] parts = PasswordHasher.Hash("secret").Split('$');

        Assert.Equal(6, parts.Length);
        Assert.Equal("", parts[0]);
        Assert.Equal("scram-sha-256", parts[1]);
        Assert.Equal("210000", parts[2]);
        Assert.Equal(16, Convert.FromBase64String(parts[3]).Length);
        Assert.Equal(32, Convert.FromBase64String(parts[4]).Length);
        Assert.Equal(32, Convert.FromBase64String(parts[5]).Length);
    }

    [Fact]
    public void OlderHashesKeepTheirFormatAndStillVerify()
    {
        string stored = PasswordHasher.HashPbkdf2("secret");
        string[] parts = stored.Split('$');

        Assert.True(PasswordHasher.Verify("secret", stored));
        Assert.False(PasswordHasher.Verify("secreT", stored));
        Assert.Equal(5, parts.Length);
        Assert.Equal("", parts[0]);
        Assert.Equal("pbkdf2-sha256", parts[1]);
        Assert.Equal("210000", parts[2]);
        Assert.Equal(16, Convert.FromBase64String(parts[3]).Length);
        Assert.Equal(32, Convert.FromBase64String(parts[4]).Length);
    }

    [Fact]
    public void VerifyAcceptsTheRightPasswordAndRejectsOthers()
    {
        string stored = PasswordHasher.Hash("correct horse");

        Assert.True(PasswordHasher.Verify("correct horse", stored));
        Assert.False(PasswordHasher.Verify("correct horsE", stored));
        Assert.False(PasswordHasher.Verify("", stored));
    }

    [Fact]
    public void EachHashHasItsOwnSalt()
    {
        Assert.NotEqual(PasswordHasher.Hash("same"), PasswordHasher.Hash("same"));
    }

    [Fact]
    public void VerifyMatchesTheRfc7914TestVector()
    {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, dkLen=64.
        const string stored = "$pbkdf2-sha256$1$c2FsdA==$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLxJypzM8Xm2RZkWZLOdd+8xfHG4RbHjC9UJESBB06GXgw==";

        Assert.True(PasswordHasher.Verify("passwd", stored));
        Assert.False(PasswordHasher.Verify("passwe", stored));
    }

    [Fact]
    public void VerifyEncodesThePasswordAsUtf8()
    {
        // Computed independently with Python's hashlib.pbkdf2_hmac('sha256', 'pässword'.encode(), salt, 1000, 32).
        const string stored = "$pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg==$rybsuBlIHCOEKCPpDvTVloYHkPEiKOiJqqYGLCHAfF0=";

        Assert.True(PasswordHasher.Verify("pässword", stored));
    }

    [Theory]
    [InlineData("")]
    [InlineData("plain")]
    [InlineData("$pbkdf2-sha256$")]
    [InlineData("$pbkdf2-sha1$1000$MDEyMzQ1Njc4OWFiY2RlZg==$rybsuBlIHCOEKCPpDvTVloYHkPEiKOiJqqYGLCHAfF0=")]
    [InlineData("$pbkdf2-sha256$0$MDEyMzQ1Njc4OWFiY2RlZg==$rybsuBlIHCOEKCPpDvTVloYHkPEiKOiJqqYGLCHAfF0=")]
    [InlineData("$pbkdf2-sha256$-1000$MDEyMzQ1Njc4OWFiY2RlZg==$rybsuBlIHCOEKCPpDvTVloYHkPEiKOiJqqYGLCHAfF0=")]
    [InlineData("$pbkdf2-sha256$999999999$MDEyMzQ1Njc4OWFiY2RlZg==$rybsuBlIHCOEKCPpDvTVloYHkPEiKOiJqqYGLCHAfF0=")]
    [InlineData("$pbkdf2-sha256$1000x$MDEyMzQ1Njc4OWFiY2RlZg==$rybsuBlIHCOEKCPpDvTVloYHkPEiKOiJqqYGLCHAfF0=")]
    [InlineData("$pbkdf2-sha256$1000$$rybsuBlIHCOEKCPpDvTVloYHkPEiKOiJqqYGLCHAfF0=")]
    [InlineData("$pbkdf2-sha256$1000$not*base64$rybsuBlIHCOEKCPpDvTVloYHkPEiKOiJqqYGLCHAfF0=")]
    [InlineData("$pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg==")]
    [InlineData("$pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg==$")]
    [InlineData("$pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg==$cnli")]
    [InlineData("$pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg==$rybsuBlIHCOEKCPpDvTVloYHkPEiKOiJqqYGLCHAfF0=$")]
    public void VerifyRejectsMalformedStoredValues(string stored)
    {
        Assert.False(PasswordHasher.Verify("pässword", stored));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void VerifyRejectsATamperedHash(bool olderForm)
    {
        string stored = olderForm ? PasswordHasher.HashPbkdf2("secret") : PasswordHasher.Hash("secret");
        int start = stored.LastIndexOf('$') + 1;
        byte[] hash = Convert.FromBase64String(stored[start..]);
        hash[^1] ^= 1;
        string tampered = stored[..start] + Convert.ToBase64String(hash);

        Assert.False(PasswordHasher.Verify("secret", tampered));
    }

    [Theory]
    [InlineData("$scram-sha-256$")]
    [InlineData("$scram-sha-256$4096$c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // no ServerKey
    [InlineData("$scram-sha-256$0$c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("$scram-sha-256$4096$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("$scram-sha-256$4096$c2FsdA==$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // a short StoredKey
    [InlineData("$scram-sha-256$4096$c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$")]
    public void VerifyRejectsMalformedScramValues(string stored)
    {
        Assert.False(PasswordHasher.Verify("secret", stored));
    }
}
