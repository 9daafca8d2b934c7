using System.Buffers;
using FastSpool.Delivery.Transport;
using FastSpool.Queue;

namespace FastSpool.Delivery.Tests.Support;

/// <summary>A transport that answers from a script and keeps everything it was handed: each batch with the fake
/// clock's time, and each item with its message's body as read from the queue.</summary>
internal sealed class FakeTransport(string name, TimeProvider time) : ITransport
{
    private readonly object _lock = new();
    private readonly List<FakeBatch> _batches = [];
    private readonly Dictionary<string, Func<int, DeliveryResult>> _scripts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskCompletionSource> _gates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _waiting = new(StringComparer.Ordinal);

    public string Name { get; } = name;

    /// <summary>Where bodies are read from; set again when the queue is reopened.</summary>
    public MailQueue? Queue { get; set; }

    public IReadOnlyList<FakeBatch> Batches
    {
        get
        {
            lock (_lock)
                return [.. _batches];
        }
    }

    public IReadOnlyList<FakeDelivery> Deliveries => [.. Batches.SelectMany(b => b.Items)];

    public IReadOnlyList<FakeBatch> BatchesTo(string destination) => [.. Batches.Where(b => b.Destination == destination)];

    /// <summary>How <paramref name="destination"/> answers its n-th batch (1-based), every item of it alike;
    /// a destination without a script accepts everything.</summary>
    public void Script(string destination, Func<int, DeliveryResult> answer)
    {
        lock (_lock)
            _scripts[destination] = answer;
    }

    /// <summary>Batches for <paramref name="destination"/> wait, their bodies read, until the returned source is
    /// completed; they are recorded then.</summary>
    public TaskCompletionSource Gate(string destination)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
            _gates[destination] = gate;
        return gate;
    }

    public void Recover(IReadOnlyList<JournalRecord> journals)
    {
    }

    /// <summary>Batches waiting at a destination's gate now.</summary>
    public int WaitingAt(string destination)
    {
        lock (_lock)
            return _waiting.GetValueOrDefault(destination);
    }

    public async ValueTask DeliverAsync(string destination, IReadOnlyList<DeliveryItem> items, DeliveryResult[] results, CancellationToken cancellationToken)
    {
        MailQueue queue = Queue ?? throw new InvalidOperationException("the fake transport has no queue to read bodies from");
        DateTimeOffset started = time.GetUtcNow();
        // Bodies are read first and copied only after the gate, as a transport that streams a message out would.
        var bodies = new List<MessageBody>(items.Count);
        try
        {
            foreach (DeliveryItem item in items)
                bodies.Add(await queue.ReadBodyAsync(item.Message, cancellationToken));
            DeliveryResult result;
            TaskCompletionSource? gate;
            lock (_lock)
            {
                int call = _calls[destination] = _calls.GetValueOrDefault(destination) + 1;
                result = _scripts.TryGetValue(destination, out Func<int, DeliveryResult>? script) ? script(call) : DeliveryResult.Sent("delivered to " + destination);
                gate = _gates.GetValueOrDefault(destination);
                if (gate is not null)
                    _waiting[destination] = _waiting.GetValueOrDefault(destination) + 1;
            }
            if (gate is not null)
            {
                try
                {
                    await gate.Task.WaitAsync(cancellationToken);
                }
                finally
                {
                    lock (_lock)
                        _waiting[destination]--;
                }
            }
            var delivered = new FakeDelivery[items.Count];
            for (int i = 0; i < items.Count; i++)
            {
                DeliveryItem item = items[i];
                delivered[i] = new FakeDelivery(item.Message.Id, item.Recipient, item.Target.Address, item.Part, item.Message.Sender,
                    item.Message.DoubleBounce, bodies[i].Content.ToArray());
            }
            lock (_lock)
                _batches.Add(new FakeBatch(started, destination, delivered));
            Array.Fill(results, result, 0, items.Count);
        }
        finally
        {
            foreach (MessageBody body in bodies)
                body.Dispose();
        }
    }
}
