namespace FastSpool.Server.Admin;

/// <summary>The body of every error answer: what went wrong, and the queue id it concerns when there is one.</summary>
public sealed record AdminError(string Error, string? Id = null);
