// RFC 3030 §2 (BDAT chunk-size and LAST).
namespace FastSpool.Protocols.Smtp;

/// <summary>Outcome of <see cref="SmtpCommandParser.TryParseBdat"/>.</summary>
public enum BdatParseResult : byte
{
    Ok,

    /// <summary>Not <c>1*DIGIT [SP "LAST"]</c>.</summary>
    Syntax,

    /// <summary>Well formed, but the size does not fit in a long; the chunk size is then long.MaxValue.</summary>
    SizeOverflow,
}
