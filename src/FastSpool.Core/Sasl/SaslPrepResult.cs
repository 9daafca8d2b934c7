using System.Globalization;

namespace FastSpool.Sasl;

/// <summary>What <see cref="SaslPrep.Prepare"/> did: the length written, or why it refused the string, with the code
/// point and the RFC 3454 table that refused it.</summary>
public readonly record struct SaslPrepResult(SaslPrepFailure Failure, int Length, int CodePoint = 0, string Table = "")
{
    public bool Succeeded => Failure == SaslPrepFailure.None;

    /// <summary>For the log: <c>prohibited character U+0007 (RFC 3454 C.2.1)</c>. Never the string itself: it may be
    /// a password.</summary>
    public override string ToString() => Failure switch
    {
        SaslPrepFailure.None => "prepared",
        SaslPrepFailure.Prohibited => string.Create(CultureInfo.InvariantCulture, $"prohibited character U+{CodePoint:X4} (RFC 3454 {Table})"),
        SaslPrepFailure.Unassigned => string.Create(CultureInfo.InvariantCulture, $"code point U+{CodePoint:X4} unassigned in Unicode 3.2 (RFC 3454 A.1)"),
        SaslPrepFailure.Bidirectional => "right-to-left text mixed with left-to-right, or not at both ends (RFC 3454 section 6)",
        _ => "too long",
    };
}
