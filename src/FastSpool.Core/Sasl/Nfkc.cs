// Unicode normalization form KC (UAX #15) over Unicode 3.2, as stringprep (RFC 3454 §4) requires: full compatibility
// decomposition, canonical ordering, canonical composition. The server runs with invariant globalization, where
// string.Normalize does nothing, so the small amount of data it takes is here (StringprepTables).
namespace FastSpool.Sasl;

internal static class Nfkc
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    /// <summary>NFKC of <paramref name="text"/>, code points in and out.</summary>
    public static List<int> Normalize(ReadOnlySpan<int> text)
    {
        var buffer = new List<int>(text.Length + 8);
        foreach (int c in text)
            Decompose(c, buffer);
        Reorder(buffer);
        Compose(buffer);
        return buffer;
    }

    private static void Decompose(int c, List<int> buffer)
    {
        int s = c - SBase;
        if (s is >= 0 and < SCount)
        {
            buffer.Add(LBase + (s / NCount));
            buffer.Add(VBase + (s % NCount / TCount));
            if (s % TCount != 0)
                buffer.Add(TBase + (s % TCount));
            return;
        }
        int i = StringprepTables.DecompositionKeys.BinarySearch(c);
        if (i < 0)
        {
            buffer.Add(c);
            return;
        }
        ReadOnlySpan<int> starts = StringprepTables.DecompositionStarts;
        foreach (int d in StringprepTables.DecompositionData[starts[i]..starts[i + 1]])
            buffer.Add(d); // already fully decomposed
    }

    /// <summary>Canonical ordering: each run of non-starters sorted by combining class, stable.</summary>
    private static void Reorder(List<int> buffer)
    {
        for (int i = 1; i < buffer.Count; i++)
        {
            int c = buffer[i];
            int k = CombiningClass(c);
            if (k == 0)
                continue;
            int j = i;
            while (j > 0 && CombiningClass(buffer[j - 1]) > k)
            {
                buffer[j] = buffer[j - 1];
                j--;
            }
            buffer[j] = c;
        }
    }

    /// <summary>Canonical composition: each character joins the last starter before it unless a character between
    /// them blocks it (one of class 0, or of a class not below its own).</summary>
    private static void Compose(List<int> buffer)
    {
        if (buffer.Count == 0)
            return;
        int starter = 0;
        int last = CombiningClass(buffer[0]) == 0 ? 0 : 256; // a leading non-starter composes with nothing
        int write = 1;
        for (int read = 1; read < buffer.Count; read++)
        {
            int c = buffer[read];
            int k = CombiningClass(c);
            if ((last < k || last == 0) && TryCompose(buffer[starter], c, out int composite))
            {
                buffer[starter] = composite;
                continue;
            }
            if (k == 0)
                starter = write;
            last = k;
            buffer[write++] = c;
        }
        buffer.RemoveRange(write, buffer.Count - write);
    }

    private static bool TryCompose(int first, int second, out int composite)
    {
        composite = 0;
        int l = first - LBase, v = second - VBase;
        if (l is >= 0 and < LCount && v is >= 0 and < VCount)
        {
            composite = SBase + (((l * VCount) + v) * TCount);
            return true;
        }
        int s = first - SBase, t = second - TBase;
        if (s is >= 0 and < SCount && s % TCount == 0 && t is > 0 and < TCount)
        {
            composite = first + t;
            return true;
        }
        ReadOnlySpan<int> triples = StringprepTables.Compositions;
        int lo = 0, hi = (triples.Length / 3) - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int a = triples[mid * 3], b = triples[(mid * 3) + 1];
            int order = a != first ? a.CompareTo(first) : b.CompareTo(second);
            if (order == 0)
            {
                composite = triples[(mid * 3) + 2];
                return true;
            }
            if (order < 0)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        return false;
    }

    internal static int CombiningClass(int c)
    {
        if (c < 0x300)
            return 0;
        ReadOnlySpan<int> pairs = StringprepTables.CombiningClasses;
        int lo = 0, hi = (pairs.Length / 2) - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int key = pairs[mid * 2];
            if (key == c)
                return pairs[(mid * 2) + 1];
            if (key < c)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        return 0;
    }
}
