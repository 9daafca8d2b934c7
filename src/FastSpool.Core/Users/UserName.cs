using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace FastSpool.Users;

/// <summary>Names of local mailboxes: 1–64 characters of <c>a-z 0-9 . _ -</c>, starting with a letter or digit,
/// compared and stored in ASCII lowercase. The first-character rule also rules out <c>.</c> and <c>..</c>, so a
/// valid name is always a plain file name inside the mail directory. Names ending in <c>.lock</c> are refused: they
/// would be another mailbox's dotlock.</summary>
public static class UserName
{
    /// <summary>RFC 5321 section 4.5.3.1.1: a local part is at most 64 octets.</summary>
    public const int MaxLength = 64;

    public const string Postmaster = "postmaster";

    private static readonly SearchValues<char> NameChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

    /// <summary>Validates <paramref name="name"/> after ASCII case folding: <c>Alice</c> is valid and means
    /// <c>alice</c>.</summary>
    public static bool IsValid(ReadOnlySpan<char> name) =>
        name.Length is > 0 and <= MaxLength
        && char.IsAsciiLetterOrDigit(name[0])
        && !name.ContainsAnyExcept(NameChars)
        && !name.EndsWith(".lock", StringComparison.OrdinalIgnoreCase);

    /// <summary>The stored (lowercase) form of a valid name.</summary>
    public static bool TryNormalize(ReadOnlySpan<char> name, [NotNullWhen(true)] out string? normalized)
    {
        if (!IsValid(name))
        {
            normalized = null;
            return false;
        }
        Span<char> lower = stackalloc char[MaxLength];
        Ascii.ToLower(name, lower, out int length);
        normalized = new string(lower[..length]);
        return true;
    }

    /// <summary>Decodes an ASCII local part for a dictionary lookup without allocating. Non-ASCII or over-long input
    /// can never name a mailbox, so it simply fails.</summary>
    internal static bool TryDecode(ReadOnlySpan<byte> localPartUtf8, Span<char> destination, out int length)
    {
        length = 0;
        if (localPartUtf8.IsEmpty || localPartUtf8.Length > destination.Length)
            return false;
        return Ascii.ToUtf16(localPartUtf8, destination, out length) == OperationStatus.Done;
    }
}
