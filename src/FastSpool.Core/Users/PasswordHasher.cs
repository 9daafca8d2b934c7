using System.Globalization;
using System.Security.Cryptography;

namespace FastSpool.Users;

/// <summary>Password hashes of the users file. New ones are SCRAM-SHA-256 verifiers (<see cref="ScramKeys"/>), which
/// serve SCRAM and, by deriving the same keys, PLAIN and LOGIN; hashes of the older form
/// <c>$pbkdf2-sha256$&lt;iterations&gt;$&lt;salt b64&gt;$&lt;hash b64&gt;</c> keep working for PLAIN and LOGIN (and POP3).</summary>
public static class PasswordHasher
{
    public const int Iterations = 210_000;
    public const string Prefix = "$pbkdf2-sha256$";

    private const int SaltSize = 16;
    private const int HashSize = 32;
    // Stored values come from an administrator-owned file, but a corrupt count must not stall a login for minutes.
    private const int MaxIterations = 10_000_000;
    private const int MaxEncodedBytes = 64;

    /// <summary>The form <c>user add</c> and <c>user passwd</c> write: <c>$scram-sha-256$...</c>.</summary>
    public static string Hash(ReadOnlySpan<char> password)
    {
        Span<byte> salt = stackalloc byte[SaltSize];
        RandomNumberGenerator.Fill(salt);
        return ScramKeys.Derive(password, salt, Iterations).Format();
    }

    /// <summary>Takes as long as checking <paramref name="password"/> against a stored hash, and fails: for a user who
    /// does not exist or has no password, so that how long a failed login takes does not tell which users exist.</summary>
    public static bool VerifyNobody(ReadOnlySpan<char> password)
    {
        _ = Verify(password, s_nobody.Value);
        return false;
    }

    private static readonly Lazy<string> s_nobody = new(() =>
    {
        Span<byte> random = stackalloc byte[24];
        RandomNumberGenerator.Fill(random);
        return Hash(Convert.ToBase64String(random));
    });

    /// <summary>The older form, <c>$pbkdf2-sha256$...</c> (no SCRAM).</summary>
    public static string HashPbkdf2(ReadOnlySpan<char> password)
    {
        Span<byte> salt = stackalloc byte[SaltSize];
        Span<byte> hash = stackalloc byte[HashSize];
        RandomNumberGenerator.Fill(salt);
        Rfc2898DeriveBytes.Pbkdf2(password, salt, hash, Iterations, HashAlgorithmName.SHA256);
        string result = string.Concat(
            Prefix,
            Iterations.ToString(CultureInfo.InvariantCulture), "$",
            Convert.ToBase64String(salt), "$",
            Convert.ToBase64String(hash));
        CryptographicOperations.ZeroMemory(hash);
        return result;
    }

    /// <summary>Checks a password a client sent: its SASLprep form <paramref name="prepared"/> (RFC 4013, the form
    /// <c>user add</c> and <c>user passwd</c> store), and when that fails and the client's form
    /// <paramref name="typed"/> differs, that form too: a non-ASCII password stored before passwords were prepared
    /// was stored as typed. Printable ASCII is its own SASLprep form, so it costs one check.</summary>
    public static bool VerifyEither(ReadOnlySpan<char> prepared, ReadOnlySpan<char> typed, string stored) =>
        Verify(prepared, stored) || (!typed.SequenceEqual(prepared) && Verify(typed, stored));

    /// <summary>True when <paramref name="password"/> matches <paramref name="stored"/>; false for any malformed
    /// stored value (including the empty hash of a receive-only user).</summary>
    public static bool Verify(ReadOnlySpan<char> password, string stored)
    {
        if (stored.StartsWith(ScramKeys.Prefix, StringComparison.Ordinal))
            return ScramKeys.TryParse(stored, out ScramKeys? keys) && keys.Matches(password);
        ReadOnlySpan<char> rest = stored.AsSpan();
        if (!rest.StartsWith(Prefix, StringComparison.Ordinal))
            return false;
        rest = rest[Prefix.Length..];

        int end = rest.IndexOf('$');
        if (end <= 0
            || !int.TryParse(rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out int iterations)
            || iterations is < 1 or > MaxIterations)
            return false;
        rest = rest[(end + 1)..];

        end = rest.IndexOf('$');
        Span<byte> salt = stackalloc byte[MaxEncodedBytes];
        if (end <= 0 || !Convert.TryFromBase64Chars(rest[..end], salt, out int saltLength) || saltLength == 0)
            return false;

        Span<byte> expected = stackalloc byte[MaxEncodedBytes];
        if (!Convert.TryFromBase64Chars(rest[(end + 1)..], expected, out int hashLength) || hashLength < 16)
            return false;

        Span<byte> actual = stackalloc byte[hashLength];
        Rfc2898DeriveBytes.Pbkdf2(password, salt[..saltLength], actual, iterations, HashAlgorithmName.SHA256);
        bool equal = CryptographicOperations.FixedTimeEquals(actual, expected[..hashLength]);
        CryptographicOperations.ZeroMemory(actual);
        return equal;
    }
}
