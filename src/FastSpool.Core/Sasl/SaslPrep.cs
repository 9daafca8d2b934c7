// RFC 4013 (SASLprep), the stringprep profile (RFC 3454) for user names and passwords in SASL: §2.1 mapping (non-ASCII
// spaces to SPACE, table B.1 to nothing), §2.2 NFKC, §2.3 prohibited output, §2.4 bidirectional characters (RFC 3454
// §6), §2.5 unassigned code points (allowed in queries, refused in stored strings, RFC 3454 §7).
using System.Text;

namespace FastSpool.Sasl;

/// <summary>Prepares a user name or password so that the forms a keyboard, an input method or a client can produce
/// of the same text compare equal: <c>I\u00ADX</c> is <c>IX</c>, the ligature U+2168 is <c>IX</c> too, a no-break
/// space is a space. Printable ASCII, the form of nearly every password, comes back unchanged without any work.</summary>
public static class SaslPrep
{
    /// <summary>Prepares <paramref name="text"/> into <paramref name="destination"/>.</summary>
    /// <param name="stored">A string to be stored (a password being set): unassigned code points are refused.
    /// Otherwise a query (a password being checked): they are allowed.</param>
    public static SaslPrepResult Prepare(ReadOnlySpan<char> text, Span<char> destination, bool stored = false)
    {
        if (!text.ContainsAnyExceptInRange((char)0x20, (char)0x7E))
        {
            if (text.Length > destination.Length)
                return new SaslPrepResult(SaslPrepFailure.TooLong, 0);
            text.CopyTo(destination);
            return new SaslPrepResult(SaslPrepFailure.None, text.Length);
        }

        // §2.1 mapping, with the check for unassigned code points on the way in.
        var mapped = new List<int>(text.Length);
        for (int i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text[i..], out Rune rune, out int used) != System.Buffers.OperationStatus.Done)
                return new SaslPrepResult(SaslPrepFailure.Prohibited, 0, text[i], "C.5");
            i += used;
            int c = rune.Value;
            if (stored && In(StringprepTables.A1, c))
                return new SaslPrepResult(SaslPrepFailure.Unassigned, 0, c, "A.1");
            if (In(StringprepTables.B1, c))
                continue;
            mapped.Add(In(StringprepTables.C12, c) ? ' ' : c);
        }

        // §2.2, then §2.3 and §2.4 on the normalized form.
        List<int> normalized = Nfkc.Normalize(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(mapped));
        bool rightToLeft = false, leftToRight = false;
        foreach (int c in normalized)
        {
            if (Prohibited(c) is { } table)
                return new SaslPrepResult(SaslPrepFailure.Prohibited, 0, c, table);
            rightToLeft |= In(StringprepTables.D1, c);
            leftToRight |= In(StringprepTables.D2, c);
        }
        if (rightToLeft && (leftToRight || !In(StringprepTables.D1, normalized[0]) || !In(StringprepTables.D1, normalized[^1])))
            return new SaslPrepResult(SaslPrepFailure.Bidirectional, 0);

        int written = 0;
        foreach (int c in normalized)
        {
            if (!new Rune(c).TryEncodeToUtf16(destination[written..], out int n))
                return new SaslPrepResult(SaslPrepFailure.TooLong, 0);
            written += n;
        }
        return new SaslPrepResult(SaslPrepFailure.None, written);
    }

    /// <summary>The prepared form as a string, or null with why not.</summary>
    public static string? Prepare(string text, out SaslPrepResult result, bool stored = false)
    {
        Span<char> buffer = stackalloc char[1024];
        result = Prepare(text, buffer, stored);
        string? prepared = result.Succeeded ? new string(buffer[..result.Length]) : null;
        buffer.Clear();
        return prepared;
    }

    /// <summary>The RFC 3454 table of RFC 4013 §2.3 that prohibits <paramref name="c"/>, or null. (C.1.2 is mapped to
    /// SPACE before this.)</summary>
    private static string? Prohibited(int c) =>
        In(StringprepTables.C21, c) ? "C.2.1"
        : In(StringprepTables.C22, c) ? "C.2.2"
        : In(StringprepTables.C3, c) ? "C.3"
        : In(StringprepTables.C4, c) ? "C.4"
        : In(StringprepTables.C5, c) ? "C.5"
        : In(StringprepTables.C6, c) ? "C.6"
        : In(StringprepTables.C7, c) ? "C.7"
        : In(StringprepTables.C8, c) ? "C.8"
        : In(StringprepTables.C9, c) ? "C.9"
        : null;

    /// <summary>Whether <paramref name="c"/> falls in one of the inclusive ranges (start, end, ...) of
    /// <paramref name="ranges"/>, sorted.</summary>
    internal static bool In(ReadOnlySpan<int> ranges, int c)
    {
        int lo = 0, hi = (ranges.Length / 2) - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (c < ranges[mid * 2])
                hi = mid - 1;
            else if (c > ranges[(mid * 2) + 1])
                lo = mid + 1;
            else
                return true;
        }
        return false;
    }
}
