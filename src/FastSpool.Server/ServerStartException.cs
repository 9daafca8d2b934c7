namespace FastSpool.Server;

/// <summary>The server cannot start, for a reason the admin can fix; the message is one line that says what and where
/// (<c>cannot listen on 127.0.0.1:25: permission denied</c>), without a stack trace.</summary>
public sealed class ServerStartException : Exception
{
    public ServerStartException(StartFailure failure, string message, Exception? inner = null) : base(message, inner) => Failure = failure;

    public ServerStartException() { }

    public ServerStartException(string message) : base(message) { }

    public ServerStartException(string message, Exception inner) : base(message, inner) { }

    public StartFailure Failure { get; }
}
