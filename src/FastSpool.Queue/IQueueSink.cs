namespace FastSpool.Queue;

/// <summary>Where a committed message goes: the queue manager. Called on the committing door's thread once the
/// message is durable; it must only take the message in and return (work happens on the manager's workers).</summary>
public interface IQueueSink
{
    void Accept(QueuedMessage message);
}
