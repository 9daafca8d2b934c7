using FastSpool.Queue;

namespace FastSpool.Server;

/// <summary>Where a session hands a committed message: the queue manager.</summary>
internal interface IMessageSink
{
    void Accept(QueuedMessage message);
}
