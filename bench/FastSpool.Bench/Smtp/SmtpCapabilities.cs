namespace FastSpool.Bench.Smtp;

/// <summary>The EHLO keywords the generator uses.</summary>
[Flags]
internal enum SmtpCapabilities
{
    None = 0,
    Pipelining = 1,
    Chunking = 2,
}
