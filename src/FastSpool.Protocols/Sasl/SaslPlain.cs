// RFC 4616 (the PLAIN SASL mechanism) §2, as SMTP AUTH (RFC 4954 §4) and POP3 AUTH (RFC 5034 §4) carry it: base64
// of "[authzid] NUL authcid NUL passwd". Shared by the SMTP and POP3 engines.
using System.Buffers;
using System.Buffers.Text;

namespace FastSpool.Protocols.Sasl;

/// <summary>Decodes a PLAIN response without allocating: the caller gives a buffer of at least
/// <see cref="MaxDecodedLength"/> octets (a <c>stackalloc</c>), and the fields come back as slices of it.</summary>
public static class SaslPlain
{
    /// <summary>RFC 4616 §2: each of authzid, authcid and passwd is at most 255 octets.</summary>
    public const int MaxFieldLength = 255;

    /// <summary>The longest decoded message: three fields and two separators.</summary>
    public const int MaxDecodedLength = 3 * MaxFieldLength + 2;

    /// <summary>The longest base64 response that can decode to a well-formed message.</summary>
    public const int MaxEncodedLength = (MaxDecodedLength + 2) / 3 * 4;

    /// <summary>Decodes <paramref name="base64"/> (the response, without its line ending) into
    /// <paramref name="buffer"/> and splits it into its fields.</summary>
    public static SaslPlainStatus TryDecode(ReadOnlySpan<byte> base64, Span<byte> buffer, out SaslPlainCredentials credentials)
    {
        credentials = default;
        if (base64.Length > MaxEncodedLength || buffer.Length < MaxDecodedLength)
            return base64.Length > MaxEncodedLength ? SaslPlainStatus.NotBase64 : throw new ArgumentException("the buffer is shorter than MaxDecodedLength", nameof(buffer));
        if (base64.Length % 4 != 0
            || Base64.DecodeFromUtf8(base64, buffer, out int consumed, out int written) != OperationStatus.Done
            || consumed != base64.Length)
        {
            return SaslPlainStatus.NotBase64;
        }
        ReadOnlySpan<byte> message = buffer[..written];
        int first = message.IndexOf((byte)0);
        if (first < 0)
            return SaslPlainStatus.Malformed;
        int second = message[(first + 1)..].IndexOf((byte)0);
        if (second < 0)
            return SaslPlainStatus.Malformed;
        second += first + 1;
        ReadOnlySpan<byte> authzid = message[..first];
        ReadOnlySpan<byte> authcid = message[(first + 1)..second];
        ReadOnlySpan<byte> password = message[(second + 1)..];
        if (authzid.Length > MaxFieldLength
            || authcid.IsEmpty || authcid.Length > MaxFieldLength
            || password.IsEmpty || password.Length > MaxFieldLength || password.Contains((byte)0))
        {
            return SaslPlainStatus.Malformed;
        }
        credentials = new SaslPlainCredentials(authzid, authcid, password);
        return SaslPlainStatus.Decoded;
    }
}
