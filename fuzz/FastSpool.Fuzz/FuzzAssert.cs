namespace FastSpool.Fuzz;

/// <summary>A broken invariant is a crash for afl-fuzz: an exception no parser throws by design.</summary>
internal static class FuzzAssert
{
    public static void True(bool condition, string what)
    {
        if (!condition)
            throw new InvariantBrokenException(what);
    }
}
