using FastSpool.Queue;

namespace FastSpool.Delivery.Transport;

/// <summary>A delivery agent (Postfix's local(8), smtp(8)): takes a batch of deliveries to one destination and
/// answers for each. The queue manager hands a destination to one worker at a time, so a transport never sees two
/// batches for the same destination at once. A transport owns its crash records (<see cref="MailQueue.RecordJournalAsync"/>).</summary>
public interface ITransport
{
    /// <summary>Logged as <c>relay=NAME</c>; names the transport's journal records.</summary>
    string Name { get; }

    /// <summary>Whether this transport hands mail to another host: a failure before any host answered is then logged
    /// as <c>relay=none</c>, as Postfix's smtp(8) does, rather than with the transport's name.</summary>
    bool IsRemote => false;

    /// <summary>Called once at start, before any delivery, with this transport's journal records that recovery found
    /// unfinished.</summary>
    void Recover(IReadOnlyList<JournalRecord> journals);

    /// <summary>Delivers <paramref name="items"/> (all for <paramref name="destination"/>) and writes one result per
    /// item at the same index of <paramref name="results"/> (which may be longer than the batch). Failures are
    /// results, not exceptions.</summary>
    ValueTask DeliverAsync(string destination, IReadOnlyList<DeliveryItem> items, DeliveryResult[] results, CancellationToken cancellationToken);
}
