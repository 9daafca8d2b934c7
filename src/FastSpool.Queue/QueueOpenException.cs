namespace FastSpool.Queue;

/// <summary>The queue's files cannot be opened or recovered; the server refuses to start rather than lose mail.</summary>
public sealed class QueueOpenException : IOException
{
    public QueueOpenException(string message, Exception? inner) : base(message, inner) { }
    public QueueOpenException() : base("the queue cannot be opened") { }
    public QueueOpenException(string message) : base(message) { }
}
