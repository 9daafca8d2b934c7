// RFC 5321 §2.3.8 (lines end in CRLF), §4.5.3.1.4 (command line length).
namespace FastSpool.Protocols.Smtp;

/// <summary>Outcome of <see cref="CommandLineReader.TryReadLine"/>.</summary>
public enum LineReadStatus : byte
{
    /// <summary>No complete line yet; call again when more input has arrived.</summary>
    NeedMore,

    /// <summary>A line ended by CRLF.</summary>
    Line,

    /// <summary>A line longer than the limit; it has been consumed up to and including its LF.</summary>
    TooLong,

    /// <summary>A line ended by LF without CR; it has been consumed.</summary>
    BareLf,
}
