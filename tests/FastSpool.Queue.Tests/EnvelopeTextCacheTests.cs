using FastSpool.Queue;

namespace FastSpool.Queue.Tests;

public sealed class EnvelopeTextCacheTests
{
    [Fact]
    public void SameBytesGiveTheSameString()
    {
        var cache = new EnvelopeTextCache();
        string first = cache.Sender("bench@example.org"u8);
        string second = cache.Sender("bench@example.org"u8.ToArray());

        Assert.Equal("bench@example.org", first);
        Assert.Same(first, second);
    }

    [Fact]
    public void ChangedBytesGiveTheirOwnText()
    {
        var cache = new EnvelopeTextCache();
        cache.ClientHelo("client.example.org"u8);

        Assert.Equal("a.example", cache.ClientHelo("a.example"u8));
        Assert.Equal("client.example.org.longer-name.example", cache.ClientHelo("client.example.org.longer-name.example"u8));
        Assert.Equal("client.example.org", cache.ClientHelo("client.example.org"u8));
        Assert.Equal("grüße.example", cache.ClientHelo("grüße.example"u8));
    }

    [Fact]
    public void FieldsAreKeptApart()
    {
        var cache = new EnvelopeTextCache();
        cache.Sender("alice@example.org"u8);

        Assert.Equal("bob@example.org", cache.Recipient("bob@example.org"u8));
        Assert.Equal("alice@example.org", cache.Sender("alice@example.org"u8));
        Assert.Equal("", cache.ClientAddress([]));
    }

    [Fact]
    public void LongTextIsDecodedEveryTime()
    {
        var cache = new EnvelopeTextCache();
        byte[] helo = new byte[300];
        helo.AsSpan().Fill((byte)'h');

        string first = cache.ClientHelo(helo);
        string second = cache.ClientHelo(helo);

        Assert.Equal(new string('h', 300), second);
        Assert.NotSame(first, second);
    }
}
