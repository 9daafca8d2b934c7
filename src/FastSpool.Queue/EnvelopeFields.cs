namespace FastSpool.Queue;

/// <summary>What a session knows about a message when it commits it. Addresses are UTF-8 bytes without angle
/// brackets, kept in the session's own buffers until the envelope record is written.</summary>
public readonly ref struct EnvelopeFields
{
    public required QueueId Id { get; init; }
    public required DateTimeOffset Arrival { get; init; }
    public required long Size { get; init; }
    public required ReadOnlySpan<byte> Sender { get; init; }
    public required RecipientList Recipients { get; init; }
    public required ReadOnlySpan<byte> ClientAddress { get; init; }
    public required ReadOnlySpan<byte> ClientHelo { get; init; }
    public required ReadOnlySpan<long> ChunkAddresses { get; init; }
    public bool EightBitMime { get; init; }
    public bool SmtpUtf8 { get; init; }
}
