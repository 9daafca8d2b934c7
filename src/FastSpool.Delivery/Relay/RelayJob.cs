using FastSpool.Delivery.Transport;
using FastSpool.Queue;

namespace FastSpool.Delivery.Relay;

/// <summary>One message of a batch and the batch's items for it: one transaction, one RCPT per item.</summary>
internal sealed class RelayJob(QueuedMessage message)
{
    public QueuedMessage Message { get; } = message;

    /// <summary>Indexes into the batch (and its results).</summary>
    public List<int> Items { get; } = [];

    /// <summary>Every item of the job not answered yet gets <paramref name="result"/>.</summary>
    public void FailRemaining(DeliveryResult result, DeliveryResult[] results)
    {
        foreach (int i in Items)
        {
            if (results[i].Reply is null)
                results[i] = result;
        }
    }

    /// <summary>Splits a batch into one job per message, in batch order.</summary>
    public static List<RelayJob> Group(IReadOnlyList<DeliveryItem> items)
    {
        var jobs = new List<RelayJob>();
        var byMessage = new Dictionary<ulong, RelayJob>();
        for (int i = 0; i < items.Count; i++)
        {
            QueuedMessage message = items[i].Message;
            if (!byMessage.TryGetValue(message.Id.Value, out RelayJob? job))
            {
                job = new RelayJob(message);
                byMessage.Add(message.Id.Value, job);
                jobs.Add(job);
            }
            job.Items.Add(i);
        }
        return jobs;
    }
}
