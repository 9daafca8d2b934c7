// RFC 5802 (SCRAM) §3, §5, §6 (channel binding and the gs2 header) and §7, with SHA-256 (RFC 7677), server side:
// SCRAM-SHA-256 and SCRAM-SHA-256-PLUS with the tls-server-end-point binding (RFC 5929 §4). The messages are the
// SASL payloads that SMTP AUTH (RFC 4954 §4) and POP3 AUTH (RFC 5034) carry base64-encoded.
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace FastSpool.Protocols.Sasl;

/// <summary>One SCRAM-SHA-256 exchange: the client's first message, the server's (nonce, salt, iteration count),
/// then the client's proof checked against StoredKey and the server's signature from ServerKey. The caller looks up
/// the user between the first two steps. An exchange is made per AUTH command, not per connection.</summary>
public sealed class ScramSha256Exchange
{
    public const string Mechanism = "SCRAM-SHA-256";
    public const string PlusMechanism = "SCRAM-SHA-256-PLUS";

    /// <summary>The one channel binding type offered (RFC 5929 §4): the hash of the server's certificate.</summary>
    public const string EndPointBinding = "tls-server-end-point";

    private const int KeySize = 32;
    private const int ServerNonceSize = 18;

    private readonly string? _serverNonce;
    private readonly bool _plus;
    private readonly byte[]? _channelBinding;
    private byte[] _gs2Header = [];
    private bool _bound;
    private byte[] _clientFirstBare = [];
    private byte[] _serverFirst = [];
    private byte[] _nonce = [];

    /// <summary>An exchange of SCRAM-SHA-256 (<paramref name="plus"/> false) or SCRAM-SHA-256-PLUS.</summary>
    /// <param name="channelBinding">The tls-server-end-point data of this connection when the server offers
    /// SCRAM-SHA-256-PLUS on it (over TLS), else null. A non-PLUS exchange needs it too: a client that could bind
    /// but thinks the server cannot ('y') has had the -PLUS mechanism taken out of what it saw (§6).</param>
    public ScramSha256Exchange(bool plus = false, byte[]? channelBinding = null)
    {
        if (plus && channelBinding is null)
            throw new ArgumentException("SCRAM-SHA-256-PLUS needs the channel binding data", nameof(channelBinding));
        _plus = plus;
        _channelBinding = channelBinding;
    }

    /// <summary>With a fixed server nonce: the RFC's test vectors.</summary>
    internal ScramSha256Exchange(string serverNonce, bool plus = false, byte[]? channelBinding = null)
        : this(plus, channelBinding) => _serverNonce = serverNonce;

    /// <summary>The authentication identity (<c>n=</c>), decoded; set by a well-formed first message.</summary>
    public string UserName { get; private set; } = "";

    /// <summary>Reads client-first-message: <c>gs2-header n=user,r=nonce[,ext]</c>, where gs2-header is
    /// <c>gs2-cbind-flag "," [authzid] ","</c>. An authzid (<c>a=</c>) other than the user itself is refused as
    /// malformed: no one may act as another.</summary>
    public ScramStatus ReadClientFirst(ReadOnlySpan<byte> message)
    {
        int flagEnd = message.IndexOf((byte)',');
        if (flagEnd <= 0)
            return ScramStatus.Malformed;
        ScramStatus binding = CheckBindingFlag(message[..flagEnd]);
        if (binding != ScramStatus.Ok)
            return binding;
        int authzidEnd = message[(flagEnd + 1)..].IndexOf((byte)',');
        if (authzidEnd < 0)
            return ScramStatus.Malformed;
        ReadOnlySpan<byte> authzid = message.Slice(flagEnd + 1, authzidEnd);
        int bareStart = flagEnd + 1 + authzidEnd + 1;
        ReadOnlySpan<byte> bare = message[bareStart..];
        if (!bare.StartsWith("n="u8))
            return ScramStatus.Malformed;
        int comma = bare.IndexOf((byte)',');
        if (comma < 0 || !TryDecodeSaslName(bare[2..comma], out string? user) || user.Length == 0)
            return ScramStatus.Malformed;
        ReadOnlySpan<byte> rest = bare[(comma + 1)..];
        if (!rest.StartsWith("r="u8))
            return ScramStatus.Malformed;
        int end = rest.IndexOf((byte)',');
        ReadOnlySpan<byte> clientNonce = end < 0 ? rest[2..] : rest[2..end];
        if (clientNonce.IsEmpty || !IsPrintable(clientNonce))
            return ScramStatus.Malformed;
        if (!authzid.IsEmpty)
        {
            if (!authzid.StartsWith("a="u8) || !TryDecodeSaslName(authzid[2..], out string? asUser) || !asUser.Equals(user, StringComparison.OrdinalIgnoreCase))
                return ScramStatus.Malformed;
        }
        UserName = user;
        _gs2Header = message[..bareStart].ToArray();
        _bound = message[0] == (byte)'p';
        _clientFirstBare = bare.ToArray();
        Span<byte> random = stackalloc byte[ServerNonceSize];
        RandomNumberGenerator.Fill(random);
        _nonce = [.. clientNonce, .. Encoding.ASCII.GetBytes(_serverNonce ?? Convert.ToBase64String(random))];
        return ScramStatus.Ok;
    }

    /// <summary>RFC 5802 §6, gs2-cbind-flag: <c>p=cb-name</c> (the client binds: only with -PLUS, and only to
    /// tls-server-end-point here), <c>y</c> (the client could bind but thinks the server cannot: refused where the
    /// server offers -PLUS, a downgrade), <c>n</c> (the client cannot bind: not with -PLUS).</summary>
    private ScramStatus CheckBindingFlag(ReadOnlySpan<byte> flag)
    {
        if (flag.StartsWith("p="u8))
        {
            if (!_plus)
                return ScramStatus.ChannelBindingNotSupported;
            return flag[2..].SequenceEqual("tls-server-end-point"u8) ? ScramStatus.Ok : ScramStatus.UnsupportedChannelBindingType;
        }
        if (flag.Length != 1 || flag[0] is not ((byte)'n' or (byte)'y'))
            return ScramStatus.Malformed;
        if (_plus)
            return ScramStatus.Malformed; // -PLUS is channel binding: RFC 5802 §6 "p" is the only flag it takes
        return flag[0] == (byte)'y' && _channelBinding is not null ? ScramStatus.Downgraded : ScramStatus.Ok;
    }

    /// <summary>server-first-message: <c>r=nonce,s=salt,i=iterations</c>.</summary>
    public byte[] WriteServerFirst(ReadOnlySpan<byte> salt, int iterations)
    {
        _serverFirst = Encoding.ASCII.GetBytes($"r={Encoding.ASCII.GetString(_nonce)},s={Convert.ToBase64String(salt)},i={iterations}");
        return _serverFirst;
    }

    /// <summary>Reads client-final-message (<c>c=binding,r=nonce[,ext],p=proof</c>) and checks the proof: ClientKey =
    /// proof XOR HMAC(StoredKey, AuthMessage) must hash to StoredKey. On success <paramref name="serverFinal"/> is
    /// <c>v=ServerSignature</c>.</summary>
    public ScramStatus ReadClientFinal(ReadOnlySpan<byte> message, ReadOnlySpan<byte> storedKey, ReadOnlySpan<byte> serverKey, out byte[] serverFinal)
    {
        serverFinal = [];
        if (_serverFirst.Length == 0 || storedKey.Length != KeySize || serverKey.Length != KeySize)
            return ScramStatus.Malformed;
        int proofAt = message.LastIndexOf(",p="u8);
        if (proofAt < 0)
            return ScramStatus.Malformed;
        ReadOnlySpan<byte> withoutProof = message[..proofAt];
        ReadOnlySpan<byte> proofText = message[(proofAt + 3)..];

        // c= must be the base64 of the gs2 header the client sent first, followed with "p" by the binding data of
        // this connection (RFC 5802 §7, cbind-input).
        if (!withoutProof.StartsWith("c="u8))
            return ScramStatus.Malformed;
        int comma = withoutProof.IndexOf((byte)',');
        if (comma < 0)
            return ScramStatus.Malformed;
        byte[] input = _bound ? [.. _gs2Header, .. _channelBinding!] : _gs2Header;
        Span<byte> binding = stackalloc byte[Base64.GetMaxEncodedToUtf8Length(input.Length)];
        Base64.EncodeToUtf8(input, binding, out _, out int bindingLength);
        if (!withoutProof[2..comma].SequenceEqual(binding[..bindingLength]))
            return _bound ? ScramStatus.ChannelBindingMismatch : ScramStatus.Malformed;
        ReadOnlySpan<byte> rest = withoutProof[(comma + 1)..];
        if (!rest.StartsWith("r="u8))
            return ScramStatus.Malformed;
        int end = rest.IndexOf((byte)',');
        if (!(end < 0 ? rest[2..] : rest[2..end]).SequenceEqual(_nonce))
            return ScramStatus.Malformed;

        Span<byte> proof = stackalloc byte[KeySize + 2];
        if (Base64.DecodeFromUtf8(proofText, proof, out int consumed, out int proofLength) != System.Buffers.OperationStatus.Done
            || consumed != proofText.Length || proofLength != KeySize)
        {
            return ScramStatus.Malformed;
        }

        // AuthMessage = client-first-message-bare "," server-first-message "," client-final-message-without-proof
        byte[] authMessage = [.. _clientFirstBare, (byte)',', .. _serverFirst, (byte)',', .. withoutProof];
        Span<byte> clientKey = stackalloc byte[KeySize];
        HMACSHA256.HashData(storedKey, authMessage, clientKey);
        for (int i = 0; i < KeySize; i++)
            clientKey[i] ^= proof[i];
        Span<byte> computed = stackalloc byte[KeySize];
        SHA256.HashData(clientKey, computed);
        CryptographicOperations.ZeroMemory(clientKey);
        if (!CryptographicOperations.FixedTimeEquals(computed, storedKey))
            return ScramStatus.WrongProof;
        Span<byte> signature = stackalloc byte[KeySize];
        HMACSHA256.HashData(serverKey, authMessage, signature);
        serverFinal = Encoding.ASCII.GetBytes("v=" + Convert.ToBase64String(signature));
        return ScramStatus.Ok;
    }

    /// <summary>RFC 5802 §5.1 saslname: UTF-8 with ',' and '=' written as <c>=2C</c> and <c>=3D</c>.</summary>
    private static bool TryDecodeSaslName(ReadOnlySpan<byte> text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? name)
    {
        name = null;
        if (text.Length > 255)
            return false;
        Span<byte> decoded = stackalloc byte[text.Length];
        int n = 0;
        for (int i = 0; i < text.Length; i++)
        {
            byte b = text[i];
            if (b == (byte)'=')
            {
                if (text[(i + 1)..].StartsWith("2C"u8))
                    decoded[n++] = (byte)',';
                else if (text[(i + 1)..].StartsWith("3D"u8))
                    decoded[n++] = (byte)'=';
                else
                    return false;
                i += 2;
            }
            else if (b is 0 or (byte)',')
            {
                return false;
            }
            else
            {
                decoded[n++] = b;
            }
        }
        if (!System.Text.Unicode.Utf8.IsValid(decoded[..n]))
            return false;
        name = Encoding.UTF8.GetString(decoded[..n]);
        return true;
    }

    private static bool IsPrintable(ReadOnlySpan<byte> nonce)
    {
        foreach (byte b in nonce)
        {
            if (b is < 0x21 or > 0x7E or (byte)',')
                return false;
        }
        return true;
    }
}
