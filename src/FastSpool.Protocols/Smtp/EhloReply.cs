namespace FastSpool.Protocols.Smtp;

/// <summary>What a server's EHLO reply offers.</summary>
/// <param name="MaxSize">The SIZE limit in octets; 0 when SIZE is not offered or gives no limit.</param>
public readonly record struct EhloReply(SmtpExtensions Extensions, long MaxSize)
{
    public bool Has(SmtpExtensions extension) => (Extensions & extension) == extension;
}
