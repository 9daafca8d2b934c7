using FastSpool.Protocols.Smtp;

namespace FastSpool.Queue.Pickup;

/// <summary>One recipient of a maildrop file, with its RFC 3461 NOTIFY.</summary>
public readonly record struct MaildropRecipient(string Address, DsnNotify Notify);
