using System.Security.Cryptography;

namespace FastSpool.Users;

/// <summary>Checks a user's password against the users file, remembering for a while the passwords it has verified,
/// as Dovecot's auth cache does. A check of the stored hash costs a PBKDF2 of 210,000 iterations (a tenth of a second
/// of CPU): without the cache a client that opens a connection per message and logs in each time would spend the
/// server's CPU on little else. The cache holds no password: for each user, an HMAC-SHA-256 of the last password
/// verified, under a key made at start and kept only in memory, and the stored hash it was verified against. A
/// changed password in the users file (another stored hash) misses the cache; wrong passwords are never cached, so
/// each one costs the full check and is delayed by the caller.</summary>
public sealed class PasswordVerifier
{
    /// <summary>How long a verified password is taken without the full check.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>Users remembered at most; past that the table starts over.</summary>
    public const int MaxEntries = 10_000;

    private const int MaxPasswordChars = 1024;

    private readonly UserStore _users;
    private readonly TimeProvider _time;
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.OrdinalIgnoreCase);

    private sealed record Entry(string StoredHash, byte[] Mac, long Verified);

    public PasswordVerifier(UserStore users, TimeProvider time)
    {
        _users = users;
        _time = time;
    }

    public UserStore Users => _users;

    /// <summary>Whether <paramref name="user"/> exists, has a password, and <paramref name="password"/> is it.</summary>
    public bool Verify(string user, ReadOnlySpan<char> password) => Verify(user, password, password);

    /// <summary>As <see cref="Verify(string, ReadOnlySpan{char})"/> for a password a client sent: its SASLprep form
    /// (RFC 4013) <paramref name="password"/> is checked, and if that fails the form <paramref name="typed"/> as
    /// sent, which a password stored before FastSpool prepared passwords may be in (see
    /// <see cref="PasswordHasher.VerifyEither"/>).</summary>
    public bool Verify(string user, ReadOnlySpan<char> password, ReadOnlySpan<char> typed)
    {
        if (password.IsEmpty || password.Length > MaxPasswordChars)
            return false;
        if (!_users.TryGetPasswordHash(user, out string? stored))
            return PasswordHasher.VerifyNobody(password);
        Span<byte> mac = stackalloc byte[32];
        Mac(user, password, mac);
        lock (_lock)
        {
            if (_entries.TryGetValue(user, out Entry? entry) && entry.StoredHash == stored
                && _time.GetElapsedTime(entry.Verified) < Lifetime && CryptographicOperations.FixedTimeEquals(entry.Mac, mac))
            {
                return true;
            }
        }
        if (!PasswordHasher.Verify(password, stored))
        {
            // A password stored before passwords were prepared was stored as typed. Such a match is not cached: the
            // cache is looked up by the prepared form, which may stand for other typed forms than this one.
            return !typed.SequenceEqual(password) && PasswordHasher.Verify(typed, stored);
        }
        lock (_lock)
        {
            if (_entries.Count >= MaxEntries)
                _entries.Clear();
            _entries[user] = new Entry(stored, mac.ToArray(), _time.GetTimestamp());
        }
        return true;
    }

    /// <summary>HMAC(key, user NUL password): the user is in it, so one user's entry never stands for another's.</summary>
    private void Mac(string user, ReadOnlySpan<char> password, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        Span<byte> text = stackalloc byte[MaxPasswordChars * 3];
        int n = System.Text.Encoding.UTF8.GetBytes(user.ToLowerInvariant(), text);
        hmac.AppendData(text[..n]);
        hmac.AppendData([0]);
        n = System.Text.Encoding.UTF8.GetBytes(password, text);
        hmac.AppendData(text[..n]);
        CryptographicOperations.ZeroMemory(text[..n]);
        hmac.GetHashAndReset(destination);
    }
}
