using System.Buffers;
using FastSpool.Delivery.Transport;
using FastSpool.Queue;
using Microsoft.Extensions.Logging;

namespace FastSpool.Delivery.Relay;

/// <summary>The relay agent (sendmail's SMART_HOST, Postfix's smtp(8) with relayhost): hands remote mail to the
/// smarthost. A batch is split into one transaction per message, run over up to <c>Relay:MaxConnections</c>
/// connections at once; connections are reused (RSET between messages, at most <c>Relay:MessagesPerConnection</c>
/// each) and kept a moment for the next batch. When the smarthost cannot be reached or refuses the session, every
/// message of the batch not sent yet gets that reason (deferred, or bounced for a 5xx or a loop). The smarthost owns
/// what it accepted: the relay keeps no journal, so a crash between its 250 and our record may send a message twice,
/// as with any MTA (RFC 5321 §6.1 prefers that to losing it).</summary>
public sealed class RelayTransport : ITransport, IAsyncDisposable
{
    private readonly RelaySettings _settings;
    private readonly MailQueue _queue;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Lock _lock = new();
    private readonly Stack<SmarthostConnection> _idle = new();

    public RelayTransport(RelaySettings settings, MailQueue queue, TimeProvider time, ILogger log)
    {
        _settings = settings;
        _queue = queue;
        _time = time;
        _log = log;
    }

    public string Name => "relay";

    public bool IsRemote => true;

    /// <summary>The destination the router sends remote mail to.</summary>
    public string Destination => _settings.Destination;

    public void Recover(IReadOnlyList<JournalRecord> journals)
    {
        // No journal: see the class summary.
    }

    public async ValueTask DeliverAsync(string destination, IReadOnlyList<DeliveryItem> items, DeliveryResult[] results, CancellationToken cancellationToken)
    {
        List<RelayJob> jobs = RelayJob.Group(items);
        var run = new BatchRun(this, jobs, items, results, cancellationToken);
        var workers = new Task[Math.Min(_settings.MaxConnections, jobs.Count)];
        for (int w = 0; w < workers.Length; w++)
            workers[w] = run.WorkAsync();
        await Task.WhenAll(workers).ConfigureAwait(false);
    }

    /// <summary>One batch: workers take the next message until none is left; a failure to open a session is every
    /// remaining message's.</summary>
    private sealed class BatchRun(RelayTransport transport, List<RelayJob> jobs, IReadOnlyList<DeliveryItem> items, DeliveryResult[] results, CancellationToken cancellationToken)
    {
        private int _next = -1;
        private RelayFailure? _sessionFailure;

        public async Task WorkAsync()
        {
            SmarthostConnection? connection = null;
            try
            {
                int j;
                while ((j = Interlocked.Increment(ref _next)) < jobs.Count)
                {
                    RelayJob job = jobs[j];
                    if (Volatile.Read(ref _sessionFailure) is { } failed)
                    {
                        job.FailRemaining(failed.Result, results);
                        continue;
                    }
                    connection = await SendAsync(job, connection).ConfigureAwait(false);
                }
            }
            finally
            {
                if (connection is not null)
                    await transport.ReturnAsync(connection).ConfigureAwait(false);
            }
        }

        private async Task<SmarthostConnection?> SendAsync(RelayJob job, SmarthostConnection? connection)
        {
            using MessageBody body = await transport._queue.ReadBodyAsync(job.Message, cancellationToken).ConfigureAwait(false);
            int hops = CountReceived(body.Content);
            if (hops > transport._settings.MaxReceivedHeaders)
            {
                job.FailRemaining(DeliveryResult.Permanent("5.4.0", $"too many hops ({hops} Received: headers, limit {transport._settings.MaxReceivedHeaders})", 554), results);
                return connection;
            }
            try
            {
                connection ??= await transport.TakeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RelayFailure e)
            {
                Volatile.Write(ref _sessionFailure, e);
                job.FailRemaining(e.Result, results);
                return null;
            }
            try
            {
                await connection.SendAsync(job, items, results, body).ConfigureAwait(false);
                connection.Messages++;
            }
            catch (RelayFailure e)
            {
                job.FailRemaining(e.Result, results);
            }
            RecordSent(job);
            if (connection.Broken)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                return null;
            }
            if (connection.Messages >= transport._settings.MessagesPerConnection)
            {
                await connection.QuitAsync().ConfigureAwait(false);
                return null;
            }
            if (!await connection.ResetAsync().ConfigureAwait(false))
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                return null;
            }
            return connection;
        }

        /// <summary>Appends the done record of each item the smarthost just took, without waiting for the rest of the
        /// batch: a crash then sends again only what was between the smarthost's 250 and the next group commit, not
        /// everything the batch had sent. The message is in flight, so the queue does not copy it forward meanwhile.</summary>
        private void RecordSent(RelayJob job)
        {
            foreach (int i in job.Items)
            {
                if (results[i].Kind != DeliveryResultKind.Sent || results[i].Reply is null)
                    continue;
                DeliveryItem item = items[i];
                _ = transport.RecordAsync(transport._queue.RecordPartDoneAsync(item.Message.Id, item.Recipient, item.Part), item.Message.Id);
                results[i] = results[i] with { Recorded = true };
            }
        }
    }

    private async Task RecordAsync(ValueTask write, QueueId id)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (QueueUnavailableException e)
        {
            // The queue manager finds the part not done and tries it again: a duplicate, never a loss.
            _log.LogError("{Id}: cannot record the delivery in the queue: {Reason}", id, e.Message);
        }
    }

    /// <summary>An idle connection that is still good (reset after its last message), or a new one.</summary>
    private async Task<SmarthostConnection> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            SmarthostConnection? idle;
            lock (_lock)
                _idle.TryPop(out idle);
            if (idle is null)
                break;
            if (_time.GetElapsedTime(idle.IdleSince) <= _settings.Timeouts.CacheIdle)
                return idle;
            await idle.QuitAsync().ConfigureAwait(false);
        }
        return await SmarthostConnection.OpenAsync(_settings, _time, cancellationToken).ConfigureAwait(false);
    }

    private async Task ReturnAsync(SmarthostConnection connection)
    {
        connection.IdleSince = _time.GetTimestamp();
        lock (_lock)
        {
            if (!_disposed && _idle.Count < _settings.MaxConnections)
            {
                _idle.Push(connection);
                return;
            }
        }
        await connection.QuitAsync().ConfigureAwait(false);
    }

    /// <summary>The <c>Received:</c> fields of the header (the loop limit, as at the door).</summary>
    internal static int CountReceived(ReadOnlySequence<byte> text)
    {
        var reader = new SequenceReader<byte>(text);
        int count = 0;
        Span<byte> name = stackalloc byte[9];
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            if (line.Length <= 1)
                break; // the blank line after the header
            if (line.Length >= 9)
            {
                line.Slice(0, 9).CopyTo(name);
                if (System.Text.Ascii.EqualsIgnoreCase(name, "Received:"u8))
                    count++;
            }
        }
        return count;
    }

    private bool _disposed;

    /// <summary>QUIT on every idle connection.</summary>
    public async ValueTask DisposeAsync()
    {
        List<SmarthostConnection> idle;
        lock (_lock)
        {
            _disposed = true;
            idle = [.. _idle];
            _idle.Clear();
        }
        foreach (SmarthostConnection connection in idle)
            await connection.QuitAsync().ConfigureAwait(false);
        _log.LogDebug("relay: {Count} idle connections closed", idle.Count);
    }
}
