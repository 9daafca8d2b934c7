// RFC 5321 §2.3.8 (CRLF only), §4.1.4 and §4.5.2 (end of data, transparency); RFC 3030 §2 (BDAT).
namespace FastSpool.Protocols.Smtp;

/// <summary>Outcome of <see cref="MessageTextScanner.Scan"/>. BareCr, BareLf and Nul are terminal: the message
/// must be refused (<c>550 5.5.2</c>) and the connection closed.</summary>
public enum TextScanStatus : byte
{
    /// <summary>All input consumed; the message continues.</summary>
    NeedMoreInput,

    /// <summary>The output span is full; call again with a fresh one and the unconsumed input.</summary>
    OutputFull,

    /// <summary>DATA ended at <c>CRLF.CRLF</c> (or BDAT LAST was finished).</summary>
    EndOfData,

    /// <summary>A CR not followed by LF.</summary>
    BareCr,

    /// <summary>An LF not preceded by CR.</summary>
    BareLf,

    /// <summary>A NUL octet.</summary>
    Nul,
}
