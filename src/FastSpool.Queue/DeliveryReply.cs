namespace FastSpool.Queue;

/// <summary>A transport's answer for one recipient, in SMTP's terms whatever the transport.</summary>
/// <param name="Code">Reply code, e.g. 250, 450, 550.</param>
/// <param name="EnhancedStatus">RFC 3463 status, e.g. <c>2.0.0</c>, <c>4.2.0</c>, <c>5.1.1</c>.</param>
/// <param name="Text">Human-readable reason, as logged in <c>status=deferred (TEXT)</c>.</param>
/// <param name="RemoteHost">The host that gave the reply (relay), or null for local delivery.</param>
public sealed record DeliveryReply(int Code, string EnhancedStatus, string Text, string? RemoteHost = null)
{
    /// <summary>The code and text are <see cref="RemoteHost"/>'s own reply; false for a failure of ours in the session
    /// with it (TLS not offered, the connection lost, a timeout), which names the host for the log's <c>relay=</c>
    /// but is not quoted as something it said, nor given as its diagnostic in a notice.</summary>
    public bool FromHost { get; init; } = true;

    /// <summary>The reason as the log and mailq give it: a remote server's reply quoted with its host
    /// (<c>host smtp.isp.example[192.0.2.1]:587 said: 451 4.3.0 try later</c>), our own as it is.</summary>
    public string Describe() => RemoteHost is null || !FromHost ? Text : $"host {RemoteHost} said: {Code} {EnhancedStatus} {Text}";

    /// <summary>For <c>status=sent (...)</c>: the remote server's reply as it was (<c>250 2.0.0 Ok: queued as X</c>).</summary>
    public string DescribeSent() => RemoteHost is null ? Text : $"{Code} {EnhancedStatus} {Text}";

    /// <summary>The host name alone of <see cref="RemoteHost"/> (<c>host[ip]:port</c>), for a notice's Remote-MTA.</summary>
    public string? RemoteHostName() => RemoteHost is null ? null : RemoteHost.IndexOf('[') is > 0 and int bracket ? RemoteHost[..bracket] : RemoteHost;
}
