namespace FastSpool.Users;

/// <summary>What <see cref="LoginFailures.Record"/> decided about one failed login.</summary>
/// <param name="Delay">How long to wait before answering the failure.</param>
/// <param name="Count">The client's failures within the window, this one included.</param>
/// <param name="LockedOut">The client has reached the limit: answer, then close the connection.</param>
public readonly record struct LoginFailure(TimeSpan Delay, int Count, bool LockedOut);
