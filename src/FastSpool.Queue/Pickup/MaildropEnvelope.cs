using FastSpool.Protocols.Smtp;

namespace FastSpool.Queue.Pickup;

/// <summary>The envelope of a message in the maildrop: what <c>sendmail</c> would have said in MAIL and RCPT. Who
/// submitted it is not in here: the server takes that from the file's owner.</summary>
public sealed record MaildropEnvelope(string Sender, IReadOnlyList<MaildropRecipient> Recipients, DsnReturn Return, string EnvelopeId, bool EightBitMime);
