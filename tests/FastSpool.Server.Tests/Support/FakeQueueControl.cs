using FastSpool.Delivery.Control;
using FastSpool.Queue;

namespace FastSpool.Server.Tests.Support;

/// <summary>A queue manager stand-in for the admin endpoint: a list of messages that the verbs change as the real
/// one would (hold, release, delete), and a record of every call with its ids and asker.</summary>
internal sealed class FakeQueueControl : IQueueControl
{
    private readonly Lock _lock = new();
    private readonly List<QueuedMessageView> _messages = [];
    private readonly Dictionary<string, string> _headers = [];
    private readonly List<ControlCall> _calls = [];

    public IReadOnlyList<ControlCall> Calls
    {
        get
        {
            lock (_lock)
                return [.. _calls];
        }
    }

    public void Add(QueuedMessageView message, string headers = "Subject: test\r\n")
    {
        lock (_lock)
        {
            _messages.Add(message);
            _headers[message.Id] = headers;
        }
    }

    public IReadOnlyList<QueuedMessageView> List()
    {
        lock (_lock)
            return [.. _messages];
    }

    public QueuedMessageView? Find(string id)
    {
        lock (_lock)
            return _messages.Find(m => m.Id == id);
    }

    public ValueTask<string?> ReadHeadersAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            return ValueTask.FromResult(_headers.GetValueOrDefault(id));
    }

    /// <summary>No ids: every message (recorded as no ids).</summary>
    public ValueTask<ControlResult> FlushAsync(IReadOnlyList<string> ids, string who) => ValueTask.FromResult(
        Act("flush", ids, false, who, m => m, ids.Count == 0 ? [.. List().Select(m => m.Id)] : null));

    public ValueTask<ControlResult> HoldAsync(IReadOnlyList<string> ids, string who) => ValueTask.FromResult(Act("hold", ids, false, who, m => m with { Held = true }));

    public ValueTask<ControlResult> ReleaseAsync(IReadOnlyList<string> ids, string who) => ValueTask.FromResult(Act("release", ids, false, who, m => m with { Held = false }));

    public ValueTask<ControlResult> RequeueAsync(IReadOnlyList<string> ids, string who) => ValueTask.FromResult(Act("requeue", ids, false, who, m => m with { Held = false }));

    public ValueTask<ControlResult> DeleteAsync(IReadOnlyList<string> ids, bool bounce, string who) => ValueTask.FromResult(Act("delete", ids, bounce, who, _ => null));

    public ValueTask<ControlResult> DeleteAllAsync(DeleteScope scope, bool bounce, string who)
    {
        IEnumerable<QueuedMessageView> chosen = List();
        if (scope == DeleteScope.Deferred)
            chosen = chosen.Where(m => m.Recipients.Any(r => r.Status == RecipientStatus.Deferred));
        return ValueTask.FromResult(Act("delete-" + scope.ToString().ToLowerInvariant(), [.. chosen.Select(m => m.Id)], bounce, who, _ => null));
    }

    public QueueCounters Counters()
    {
        lock (_lock)
        {
            return new QueueCounters(_messages.Count, _messages.Count(m => m.Held), _messages.Count(m => m.Active),
                _messages.Sum(m => m.Recipients.Count(r => r.Status == RecipientStatus.Pending)),
                _messages.Sum(m => m.Recipients.Count(r => r.Status == RecipientStatus.Deferred)),
                _messages.Count == 0 ? null : _messages.Min(m => m.Arrival));
        }
    }

    private ControlResult Act(string verb, IReadOnlyList<string> ids, bool bounce, string who,
        Func<QueuedMessageView, QueuedMessageView?> change, IReadOnlyList<string>? targets = null)
    {
        lock (_lock)
        {
            _calls.Add(new ControlCall(verb, [.. ids], bounce, who));
            var done = new List<string>();
            var unknown = new List<string>();
            foreach (string id in targets ?? ids)
            {
                int index = _messages.FindIndex(m => m.Id == id);
                if (index < 0)
                {
                    unknown.Add(id);
                    continue;
                }
                done.Add(id);
                if (change(_messages[index]) is { } changed)
                    _messages[index] = changed;
                else
                    _messages.RemoveAt(index);
            }
            return new ControlResult(done, unknown);
        }
    }
}
