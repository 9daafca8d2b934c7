namespace FastSpool.Delivery.Scheduling;

/// <summary>How delivery status notifications are made.</summary>
/// <param name="Hostname">Reporting-MTA, and the domain of <c>MAILER-DAEMON@</c>.</param>
/// <param name="Postmaster">Where failures of null-sender mail go (once: never a bounce of a bounce).</param>
/// <param name="MaxReturnedSize">A failure notice with RET=FULL returns the whole message up to this size, else
/// its headers (Postfix's bounce_size_limit is 50 KB; larger keeps more of what senders ask for).</param>
public sealed record NoticeOptions(string Hostname, string Postmaster = "postmaster", long MaxReturnedSize = 10 << 20);
