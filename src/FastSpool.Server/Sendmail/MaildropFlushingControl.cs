using FastSpool.Delivery.Control;

namespace FastSpool.Server.Sendmail;

/// <summary>The queue control that the admin endpoint serves, with <c>flush</c> (<c>sendmail -q</c>) taking the
/// maildrop in first, as Postfix's <c>postqueue -f</c> has pickup look too: the messages flushed include those
/// dropped while the server was down.</summary>
internal sealed class MaildropFlushingControl(IQueueControl inner, MaildropPickup pickup) : IQueueControl
{
    public IReadOnlyList<QueuedMessageView> List() => inner.List();

    public QueuedMessageView? Find(string id) => inner.Find(id);

    public ValueTask<string?> ReadHeadersAsync(string id, CancellationToken cancellationToken = default) => inner.ReadHeadersAsync(id, cancellationToken);

    public async ValueTask<ControlResult> FlushAsync(IReadOnlyList<string> ids, string who)
    {
        if (ids.Count == 0)
            await pickup.DrainAsync().ConfigureAwait(false);
        return await inner.FlushAsync(ids, who).ConfigureAwait(false);
    }

    public ValueTask<ControlResult> HoldAsync(IReadOnlyList<string> ids, string who) => inner.HoldAsync(ids, who);

    public ValueTask<ControlResult> ReleaseAsync(IReadOnlyList<string> ids, string who) => inner.ReleaseAsync(ids, who);

    public ValueTask<ControlResult> RequeueAsync(IReadOnlyList<string> ids, string who) => inner.RequeueAsync(ids, who);

    public ValueTask<ControlResult> DeleteAsync(IReadOnlyList<string> ids, bool bounce, string who) => inner.DeleteAsync(ids, bounce, who);

    public ValueTask<ControlResult> DeleteAllAsync(DeleteScope scope, bool bounce, string who) => inner.DeleteAllAsync(scope, bounce, who);

    public QueueCounters Counters() => inner.Counters();
}
