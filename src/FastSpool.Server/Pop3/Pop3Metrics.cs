using System.Diagnostics.Metrics;

namespace FastSpool.Server.Pop3;

/// <summary>The POP3 server's instruments (meter <c>FastSpool.Pop3</c>): sessions, logins by result, and the messages
/// retrieved and deleted. Each count is an addition with a tag array made once, no allocation on a session's way.</summary>
internal sealed class Pop3Metrics : IDisposable
{
    public const string MeterName = "FastSpool.Pop3";

    private static readonly KeyValuePair<string, object?>[] Ok = [new("result", "ok")];
    private static readonly KeyValuePair<string, object?>[] Failed = [new("result", "failed")];
    private static readonly KeyValuePair<string, object?>[] LockedOut = [new("result", "locked_out")];
    private static readonly KeyValuePair<string, object?>[] InUse = [new("result", "in_use")];
    private static readonly KeyValuePair<string, object?>[] Unavailable = [new("result", "unavailable")];

    private readonly Meter _meter;
    private readonly Counter<long> _logins;
    private readonly Counter<long> _retrieved;
    private readonly Counter<long> _retrievedBytes;
    private readonly Counter<long> _deleted;
    private long _opened;
    private long _open;

    public Pop3Metrics(IMeterFactory? meters)
    {
        _meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        _meter.CreateObservableCounter("fastspool.pop3.connections", () => Interlocked.Read(ref _opened), "{connection}",
            "POP3 sessions since start");
        _meter.CreateObservableUpDownCounter("fastspool.pop3.connections.open", () => Interlocked.Read(ref _open), "{connection}",
            "POP3 sessions open now");
        _logins = _meter.CreateCounter<long>("fastspool.pop3.logins", "{login}",
            "Logins by result: ok, failed (wrong password or unknown user), locked_out (too many failures from the address), in_use ([IN-USE]), unavailable (the maildrop cannot be opened)");
        _retrieved = _meter.CreateCounter<long>("fastspool.pop3.messages.retrieved", "{message}", "Messages sent whole by RETR");
        _retrievedBytes = _meter.CreateCounter<long>("fastspool.pop3.messages.retrieved.bytes", "By",
            "Octets of the messages RETR sent, in CRLF form as LIST counts them");
        _deleted = _meter.CreateCounter<long>("fastspool.pop3.messages.deleted", "{message}",
            "Messages removed from maildrops by the update after QUIT");
    }

    public void Opened()
    {
        Interlocked.Increment(ref _opened);
        Interlocked.Increment(ref _open);
    }

    public void Closed() => Interlocked.Decrement(ref _open);

    public void LoggedIn() => _logins.Add(1, Ok);

    public void LoginFailed() => _logins.Add(1, Failed);

    public void LoginLockedOut() => _logins.Add(1, LockedOut);

    public void MaildropInUse() => _logins.Add(1, InUse);

    public void MaildropUnavailable() => _logins.Add(1, Unavailable);

    public void Retrieved(long octets)
    {
        _retrieved.Add(1);
        _retrievedBytes.Add(octets);
    }

    public void Deleted(int messages)
    {
        if (messages > 0)
            _deleted.Add(messages);
    }

    public void Dispose() => _meter.Dispose();
}
