namespace FastSpool.Queue;

/// <summary>Where a committed message goes: the queue manager. Called on the committing door's thread once the
/// message is durable; it must only take the message in and return (work happens on the manager's workers).</summary>
public interface IQueueSink
{
    void Accept(QueuedMessage message);

    /// <summary>A message still being received had its chunks written again at the log's tail: the log behind them
    /// may be reclaimed now. Called on the door's thread; nothing to do for a sink that does not reclaim space.</summary>
    void ReceptionMoved()
    {
    }
}
