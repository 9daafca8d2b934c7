namespace FastSpool.Delivery.Maildrop;

/// <summary>One message of an mbox file, as <see cref="MboxIndex"/> found it: the entry runs from its <c>From </c>
/// line at <see cref="Start"/>; the message text (what POP3 sends) from <see cref="ContentStart"/>, just after that
/// line, to <see cref="ContentEnd"/>, before the blank line that separates entries.</summary>
/// <param name="Size">The text's octets with CRLF line ends (RFC 1939 sizes), without dot-stuffing.</param>
/// <param name="Uid">The message's number in its maildrop's UIDL sequence (<see cref="MboxIndex.UidPrefix"/>).</param>
/// <param name="Fingerprint">CRC-32C of the From_ line and the first octets after it, by which a message is known
/// again when the file was rewritten by something else.</param>
public readonly record struct MboxMessage(long Start, long ContentStart, long ContentEnd, long Size, long Uid, uint Fingerprint)
{
    public long ContentLength => ContentEnd - ContentStart;
}
