namespace FastSpool.Queue;

/// <summary>The queue cannot make records durable (a commit failed). Sessions answer 451 4.3.0.</summary>
public sealed class QueueUnavailableException : IOException
{
    public QueueUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
    public QueueUnavailableException() : base("the queue is unavailable") { }
    public QueueUnavailableException(string message) : base(message) { }
}
