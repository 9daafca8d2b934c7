namespace FastSpool.Sasl;

/// <summary>Why <see cref="SaslPrep"/> refused a string.</summary>
public enum SaslPrepFailure
{
    /// <summary>Not refused.</summary>
    None,

    /// <summary>A character RFC 4013 §2.3 prohibits in the output (RFC 3454 tables C.2.1, C.2.2, C.3 to C.9), a lone
    /// surrogate (C.5) included.</summary>
    Prohibited,

    /// <summary>A code point unassigned in Unicode 3.2 (RFC 3454 table A.1), in a string to be stored (§7).</summary>
    Unassigned,

    /// <summary>Right-to-left characters against RFC 3454 §6: mixed with left-to-right ones, or not at both ends.</summary>
    Bidirectional,

    /// <summary>Longer after preparation than the room given.</summary>
    TooLong,
}
