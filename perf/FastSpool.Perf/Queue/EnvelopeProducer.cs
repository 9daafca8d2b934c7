using System.Text;
using FastSpool.Queue;

namespace FastSpool.Perf.Queue;

/// <summary>One producer's reusable envelope record: a message with a 1 KiB body held inline (a small message
/// needs no chunk records), one sender, two recipients. Only the queue id changes from record to record.</summary>
internal sealed class EnvelopeProducer
{
    public const int InlineBodyBytes = 1024;

    private static readonly DateTimeOffset Arrival = new(2026, 11, 24, 17, 19, 20, TimeSpan.Zero);

    private readonly byte[] _sender = Encoding.ASCII.GetBytes("bob@example.org");
    private readonly byte[] _client = Encoding.ASCII.GetBytes("192.0.2.10");
    private readonly byte[] _helo = Encoding.ASCII.GetBytes("client.example.org");
    private readonly RecipientList _recipients = new();

    public EnvelopeProducer(ReadOnlySpan<byte> body)
    {
        _recipients.Add(Encoding.ASCII.GetBytes("alice@example.org"));
        _recipients.Add(Encoding.ASCII.GetBytes("carol@example.org"));
        Record = new byte[QueueRecord.HeaderSize + InlineBodyBytes + 512];
        body[..InlineBodyBytes].CopyTo(Record.AsSpan(QueueRecord.HeaderSize));
    }

    public byte[] Record { get; }

    public GroupCommitWaiter Waiter { get; } = new();

    /// <summary>Writes the envelope for <paramref name="id"/> as a session does at the end of data; returns its length.</summary>
    public int WriteEnvelope(QueueId id)
    {
        var envelope = new SubmissionEnvelope
        {
            Sender = _sender,
            Recipients = _recipients,
            Origin = MessageOrigin.Smtp,
            ClientAddress = _client,
            ClientHelo = _helo,
        };
        return EnvelopeCodec.Write(Record, id, Arrival, InlineBodyBytes, envelope, default, InlineBodyBytes);
    }
}
