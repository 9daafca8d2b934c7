namespace FastSpool.Cli;

/// <param name="Status">pending, deferred, sent or bounced.</param>
/// <param name="NextAttempt">Seconds since the epoch, for a deferred recipient.</param>
/// <param name="DelayReason">The last attempt's reply text.</param>
internal sealed record MailqJsonRecipient(string Address, string Status, int Attempts, long? NextAttempt, string? DelayReason);
