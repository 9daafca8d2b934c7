namespace FastSpool.Server.Smtp;

/// <summary>One SMTP listen endpoint: its kind and its counters.</summary>
internal sealed class SmtpListener(SmtpListenerKind kind, ListenerStatistics statistics)
{
    public SmtpListenerKind Kind { get; } = kind;

    public ListenerStatistics Statistics { get; } = statistics;

    /// <summary>A submission listener: AUTH is required before MAIL.</summary>
    public bool RequiresAuth => Kind != SmtpListenerKind.Smtp;

    /// <summary>TLS from the first octet.</summary>
    public bool ImplicitTls => Kind == SmtpListenerKind.SubmissionTls;
}
