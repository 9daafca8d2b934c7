// RFC 6152 §2 (BODY=7BIT / BODY=8BITMIME).
namespace FastSpool.Protocols.Smtp;

/// <summary>The MAIL <c>BODY=</c> parameter.</summary>
public enum BodyType : byte
{
    Unspecified,
    SevenBit,
    EightBitMime,
}
