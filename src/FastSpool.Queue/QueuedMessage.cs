namespace FastSpool.Queue;

/// <summary>A committed message, as the queue manager knows it: envelope fields and where the body is in the log.
/// The body itself stays in the log and is read back for each delivery.</summary>
public sealed class QueuedMessage
{
    private List<(int Recipient, string Mailbox)>? _done;

    public required QueueId Id { get; init; }

    /// <summary>Lowest log address the message needs (its first chunk, or the envelope).</summary>
    public required long FirstAddress { get; set; }

    public long EnvelopeAddress { get; set; }

    public required DateTimeOffset Arrival { get; init; }

    /// <summary>Message size in octets as received (CRLF line ends, dots unstuffed).</summary>
    public required long Size { get; init; }

    /// <summary>Reverse path without angle brackets; empty for the null sender.</summary>
    public required string Sender { get; init; }

    public required string[] Recipients { get; init; }

    public required long[] ChunkAddresses { get; init; }

    public required string ClientAddress { get; init; }

    public required string ClientHelo { get; init; }

    public bool EightBitMime { get; init; }

    public bool SmtpUtf8 { get; init; }

    /// <summary>The message's only record (envelope and whole body), kept in memory from its commit until it is
    /// finished (<see cref="MailQueue.KeepResident"/>); null when its body is read back from the log.</summary>
    internal byte[]? Resident;

    internal int ResidentLength;

    /// <summary>True once the message was removed from the queue (finished, or deleted).</summary>
    public bool Removed { get; set; }

    public bool IsDone(int recipient, string mailbox)
    {
        if (_done is null)
            return false;
        foreach ((int r, string m) in _done)
        {
            if (r == recipient && string.Equals(m, mailbox, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    public void MarkDone(int recipient, string mailbox)
    {
        if (!IsDone(recipient, mailbox))
            (_done ??= []).Add((recipient, mailbox));
    }
}
