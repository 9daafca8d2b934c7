using System.Globalization;
using System.Security.Cryptography;

namespace FastSpool.Users;

/// <summary>The SCRAM-SHA-256 verifier of a password (RFC 5802 §3, RFC 7677): the salt and iteration count, and
/// StoredKey = H(HMAC(SaltedPassword, "Client Key")) and ServerKey = HMAC(SaltedPassword, "Server Key"). The users
/// file keeps it as <c>$scram-sha-256$&lt;iterations&gt;$&lt;salt&gt;$&lt;StoredKey&gt;$&lt;ServerKey&gt;</c> (base64), from which
/// a SCRAM exchange is checked without the password, and a PLAIN or LOGIN password by deriving the same keys.</summary>
public sealed class ScramKeys
{
    public const string Prefix = "$scram-sha-256$";
    public const int KeySize = 32;

    // Stored values come from an administrator-owned file, but a corrupt count must not stall a login for minutes.
    private const int MaxIterations = 10_000_000;
    private const int MaxSaltSize = 64;

    private ScramKeys(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey)
    {
        Iterations = iterations;
        Salt = salt;
        StoredKey = storedKey;
        ServerKey = serverKey;
    }

    public int Iterations { get; }

    public byte[] Salt { get; }

    public byte[] StoredKey { get; }

    public byte[] ServerKey { get; }

    /// <summary>Derives the keys of <paramref name="password"/> (UTF-8), which the caller has prepared with SASLprep
    /// (RFC 5802 §2.2, RFC 4013), as a SCRAM client does before it derives its own.</summary>
    public static ScramKeys Derive(ReadOnlySpan<char> password, ReadOnlySpan<byte> salt, int iterations)
    {
        byte[] storedKey = new byte[KeySize];
        byte[] serverKey = new byte[KeySize];
        DeriveInto(password, salt, iterations, storedKey, serverKey);
        return new ScramKeys(iterations, salt.ToArray(), storedKey, serverKey);
    }

    private static void DeriveInto(ReadOnlySpan<char> password, ReadOnlySpan<byte> salt, int iterations, Span<byte> storedKey, Span<byte> serverKey)
    {
        Span<byte> salted = stackalloc byte[KeySize];
        Span<byte> clientKey = stackalloc byte[KeySize];
        Rfc2898DeriveBytes.Pbkdf2(password, salt, salted, iterations, HashAlgorithmName.SHA256);
        HMACSHA256.HashData(salted, "Client Key"u8, clientKey);
        SHA256.HashData(clientKey, storedKey);
        HMACSHA256.HashData(salted, "Server Key"u8, serverKey);
        CryptographicOperations.ZeroMemory(salted);
        CryptographicOperations.ZeroMemory(clientKey);
    }

    /// <summary>The users-file form.</summary>
    public string Format() => string.Concat(
        Prefix,
        Iterations.ToString(CultureInfo.InvariantCulture), "$",
        Convert.ToBase64String(Salt), "$",
        Convert.ToBase64String(StoredKey), "$",
        Convert.ToBase64String(ServerKey));

    /// <summary>Reads the users-file form; false for anything else or anything damaged.</summary>
    public static bool TryParse(string stored, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ScramKeys? keys)
    {
        keys = null;
        ReadOnlySpan<char> rest = stored;
        if (!rest.StartsWith(Prefix, StringComparison.Ordinal))
            return false;
        rest = rest[Prefix.Length..];
        Span<Range> parts = stackalloc Range[5];
        if (rest.Split(parts, '$') != 4)
            return false;
        if (!int.TryParse(rest[parts[0]], NumberStyles.None, CultureInfo.InvariantCulture, out int iterations) || iterations is < 1 or > MaxIterations)
            return false;
        Span<byte> salt = stackalloc byte[MaxSaltSize];
        if (!Convert.TryFromBase64Chars(rest[parts[1]], salt, out int saltLength) || saltLength == 0)
            return false;
        byte[] storedKey = new byte[KeySize];
        byte[] serverKey = new byte[KeySize];
        Span<byte> decoded = stackalloc byte[MaxSaltSize];
        if (!Convert.TryFromBase64Chars(rest[parts[2]], decoded, out int n) || n != KeySize)
            return false;
        decoded[..KeySize].CopyTo(storedKey);
        if (!Convert.TryFromBase64Chars(rest[parts[3]], decoded, out n) || n != KeySize)
            return false;
        decoded[..KeySize].CopyTo(serverKey);
        keys = new ScramKeys(iterations, salt[..saltLength].ToArray(), storedKey, serverKey);
        return true;
    }

    /// <summary>Whether <paramref name="password"/> derives both keys (compared in constant time): a damaged
    /// ServerKey fails here too, not only in a SCRAM exchange.</summary>
    public bool Matches(ReadOnlySpan<char> password)
    {
        Span<byte> keys = stackalloc byte[2 * KeySize];
        Span<byte> expected = stackalloc byte[2 * KeySize];
        DeriveInto(password, Salt, Iterations, keys[..KeySize], keys[KeySize..]);
        StoredKey.CopyTo(expected);
        ServerKey.CopyTo(expected[KeySize..]);
        return CryptographicOperations.FixedTimeEquals(keys, expected);
    }
}
