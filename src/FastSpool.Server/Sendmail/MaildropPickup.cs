using System.Text;
using System.Threading.Channels;
using FastSpool.Posix;
using FastSpool.Protocols.Smtp;
using FastSpool.Queue;
using FastSpool.Queue.Pickup;
using FastSpool.Server.Smtp;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace FastSpool.Server.Sendmail;

/// <summary>Postfix's pickup: takes the messages that <c>sendmail</c> left in <c>DataDirectory/maildrop</c> while the
/// server was not running into the queue, at start, whenever told (SIGHUP, <c>flush</c>), and every
/// Sendmail:MaildropPollInterval. A file is deleted only after its message is committed; a crash between the two
/// submits it once more at the next pickup (at least once, never lost). Names starting with a dot are files still
/// being written, never read; one older than a day is a writer that was killed, and is removed. A file that is not a
/// well-formed maildrop file is moved to <c>DataDirectory/maildrop-corrupt</c> and logged. The submitter's uid is
/// the file's owner as the kernel reports it (fstat), never anything written in it. The shared maildrop
/// (Sendmail:SharedMaildrop, where users who may not write the private one drop) is drained the same way; its files
/// are opened without following links or waiting on FIFOs, and only a regular file with one link is read.</summary>
internal sealed class MaildropPickup : IAsyncDisposable
{
    private static readonly TimeSpan StaleTemporary = TimeSpan.FromDays(1);

    private readonly string _directory;
    private readonly string? _shared;
    private bool _sharedUsable;
    private string? _sharedProblem;
    private readonly string _corrupt;
    private readonly MailQueue _queue;
    private readonly byte[] _hostname;
    private readonly Func<(long MaxSize, int MaxLineLength, int MaxRecipients)> _limits;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Channel<bool> _pokes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public MaildropPickup(string directory, string? shared, MailQueue queue, byte[] hostname, Func<(long MaxSize, int MaxLineLength, int MaxRecipients)> limits,
        TimeProvider time, TimeSpan interval, ILogger log)
    {
        _directory = directory;
        _shared = shared;
        _corrupt = directory + "-corrupt";
        _queue = queue;
        _hostname = hostname;
        _limits = limits;
        _time = time;
        _interval = interval;
        _log = log;
    }

    /// <summary>Messages taken into the queue since start.</summary>
    public long PickedUp => Interlocked.Read(ref _pickedUp);

    private long _pickedUp;

    /// <summary>Creates the maildrop (private, like the rest of the data directory) if need be.</summary>
    public static void CreateDirectory(string directory) => Directory.CreateDirectory(directory, PrivateModes.Directory);

    /// <summary>Drains once now, then on each <see cref="Poke"/> and every poll interval, until disposed.</summary>
    public void Start()
    {
        CreateDirectory(_directory);
        PrepareShared();
        _loop = LoopAsync();
    }

    /// <summary>Makes the shared maildrop, or says why it cannot be used (then those users get exit 75 while the
    /// server is down, as before it existed).</summary>
    private void PrepareShared()
    {
        if (_shared is null)
            return;
        uint owner = Libc.GetEffectiveUserId();
        string? problem = SharedMaildrop.Prepare(_shared, owner);
        _sharedUsable = problem is null;
        if (problem is not null)
        {
            _sharedProblem = problem;
            _log.LogWarning("maildrop: the shared maildrop cannot be used, so local users other than root and the server's user cannot submit while the server is down: {Problem}; make it with: install -d -o {Owner} -m 1733 {Path}",
                problem, Libc.UserNameOf(owner) ?? owner.ToString(System.Globalization.CultureInfo.InvariantCulture), _shared);
        }
    }

    /// <summary>The shared maildrop as it is now (made or mended by the administrator while the server runs, or
    /// spoiled): used from the next drain on, with one log line for each change.</summary>
    private void CheckShared()
    {
        if (_shared is null)
            return;
        string? problem = SharedMaildrop.Problem(_shared, Libc.GetEffectiveUserId());
        if (problem == _sharedProblem)
            return;
        _sharedProblem = problem;
        _sharedUsable = problem is null;
        if (problem is null)
            _log.LogInformation("maildrop: the shared maildrop {Path} is usable now", _shared);
        else
            _log.LogWarning("maildrop: the shared maildrop cannot be used: {Problem}", problem);
    }

    /// <summary>Asks for a drain soon (SIGHUP); does not wait for it.</summary>
    public void Poke() => _pokes.Writer.TryWrite(true);

    private async Task LoopAsync()
    {
        CancellationToken stopping = _stopping.Token;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    await DrainAsync(stopping).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _log.LogError("maildrop: the pickup failed, and tries again at the next poll: {Error}", e.Message);
                }
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                Task poked = _pokes.Reader.WaitToReadAsync(wake.Token).AsTask();
                Task timer = _interval > TimeSpan.Zero ? Task.Delay(_interval, _time, wake.Token) : Task.Delay(Timeout.Infinite, wake.Token);
                await Task.WhenAny(poked, timer).ConfigureAwait(false);
                await wake.CancelAsync().ConfigureAwait(false);
                _pokes.Reader.TryRead(out _);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Takes every finished file in the maildrop into the queue, oldest name first; returns how many.
    /// Drains do not overlap.</summary>
    public async Task<int> DrainAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            CheckShared();
            int count = 0;
            foreach (string? directory in (string?[])[_directory, _sharedUsable ? _shared : null])
            {
                if (directory is null)
                    continue;
                string[] names;
                try
                {
                    names = Directory.GetFiles(directory);
                }
                catch (DirectoryNotFoundException)
                {
                    continue;
                }
                Array.Sort(names, StringComparer.Ordinal);
                foreach (string path in names)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (Path.GetFileName(path).StartsWith('.'))
                    {
                        RemoveIfStale(path);
                        continue;
                    }
                    bool taken;
                    try
                    {
                        taken = await PickUpAsync(path).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // Whatever a file made go wrong, it is that file's: out of the way, and the drain goes on.
                        MoveAside(path, "it could not be taken in: " + e.Message);
                        continue;
                    }
                    if (taken)
                        count++;
                    else if (!_queue.IsHealthy)
                        return count; // the rest waits for a healthy queue
                }
            }
            return count;
        }
        finally
        {
            _gate.Release();
        }
    }

    private void RemoveIfStale(string path)
    {
        if (Libc.LStat(path, out UnixFileStatus status) == 0 && _time.GetUtcNow() - status.ModificationTime > StaleTemporary)
        {
            _log.LogWarning("maildrop: {Path}: removed a file left unfinished since {Time:u} (its writer was killed before it finished)", path, status.ModificationTime);
            Libc.Unlink(path);
        }
    }

    /// <summary>One file into the queue; true once it is committed and removed.</summary>
    private async Task<bool> PickUpAsync(string path)
    {
        int errno = Libc.Open(path, OpenFlags.NoFollow | OpenFlags.CloseOnExec | OpenFlags.NonBlocking, 0, out SafeFileHandle? handle);
        if (errno == Errno.ENOENT)
            return false; // taken by a drain that ran before
        if (errno is Errno.EINTR or Errno.EAGAIN or Errno.EMFILE or Errno.ENFILE or Errno.ENOMEM)
        {
            _log.LogError("maildrop: {Path}: {Error}; left for the next pickup", path, Libc.Describe(path, "open", errno));
            return false; // the server's trouble, not the file's
        }
        if (errno != 0 || handle is null)
        {
            MoveAside(path, "cannot be opened: " + Libc.Describe(path, "open", errno));
            return false;
        }
        using FileStream file = new(handle, FileAccess.Read, bufferSize: 0);
        if ((errno = Libc.FStat(handle, out UnixFileStatus status)) != 0)
        {
            _log.LogError("maildrop: {Path}: {Error}", path, Libc.Describe(path, "fstat", errno));
            return false;
        }
        if (status.Type != UnixFileType.RegularFile || status.LinkCount != 1)
        {
            MoveAside(path, status.Type != UnixFileType.RegularFile ? "not a regular file" : "it has more than one link");
            return false;
        }
        var input = new BufferedStream(file, 64 * 1024);
        MaildropEnvelope envelope;
        long length;
        try
        {
            envelope = MaildropFile.Read(input, _limits().MaxRecipients, out length);
        }
        catch (InvalidDataException e)
        {
            MoveAside(path, e.Message);
            return false;
        }
        (long maxSize, int maxLineLength, _) = _limits();
        if (length > maxSize)
        {
            MoveAside(path, $"the message is larger than Smtp:MaxMessageSize ({maxSize} octets)");
            return false;
        }
        MessageWriter writer = _queue.RentWriter();
        try
        {
            writer.Begin(_time.GetUtcNow(), maxSize);
            writer.AdvanceTrace(ReceivedHeader.WriteLocal(writer.FreeSpace, _hostname, status.OwnerId, writer.Id, writer.Arrival));
            string? problem = await CopyMessageAsync(input, length, writer, maxLineLength).ConfigureAwait(false);
            if (problem is not null)
            {
                writer.Abort();
                MoveAside(path, problem);
                return false;
            }
            if (writer.StoreFailed)
            {
                writer.Abort();
                _log.LogError("maildrop: {Path}: queue write failed, left for the next pickup: {Reason}", path, _queue.Log.Failure?.Message);
                return false;
            }
            var recipients = new RecipientList();
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (MaildropRecipient recipient in envelope.Recipients)
            {
                if (seen.Add(recipient.Address))
                    recipients.Add(Encoding.UTF8.GetBytes(recipient.Address), default, recipient.Notify);
            }
            QueueId id = writer.Id;
            writer.Seal(new SubmissionEnvelope
            {
                Sender = Encoding.UTF8.GetBytes(envelope.Sender),
                Recipients = recipients,
                Origin = MessageOrigin.Sendmail,
                ClientAddress = "local"u8,
                EightBitMime = envelope.EightBitMime,
                SmtpUtf8 = !Ascii.IsValid(envelope.Sender) || envelope.Recipients.Any(r => !Ascii.IsValid(r.Address)),
                Return = envelope.Return,
                EnvelopeId = Encoding.UTF8.GetBytes(envelope.EnvelopeId),
            });
            try
            {
                await writer.CommitAsync().ConfigureAwait(false);
            }
            catch (QueueUnavailableException e)
            {
                _log.LogError("maildrop: {Path}: queue write failed, left for the next pickup: {Reason}", path, e.Message);
                return false;
            }
            // Committed: only now may the file go. A crash before this line submits it again at the next start.
            Libc.Unlink(path);
            Interlocked.Increment(ref _pickedUp);
            _log.LogInformation("{Id}: uid={Uid} from=<{Sender}>, size={Size}, nrcpt={Count} (maildrop {File})",
                id, status.OwnerId, envelope.Sender, length, recipients.Count, Path.GetFileName(path));
            return true;
        }
        finally
        {
            _queue.ReturnWriter(writer);
        }
    }

    /// <summary>The message text into the writer, checked as BDAT text is (it must be canonical: CRLF, no NUL);
    /// null, or what is wrong with it.</summary>
    private static async Task<string?> CopyMessageAsync(Stream input, long length, MessageWriter writer, int maxLineLength)
    {
        MessageTextScanner scanner = MessageTextScanner.ForBdat(maxLineLength);
        byte[] buffer = new byte[64 * 1024];
        long left = length; // exactly what the envelope says, even if the file grows meanwhile
        while (left > 0)
        {
            int read = await input.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left))).ConfigureAwait(false);
            if (read == 0)
                return "the file shrank while it was read";
            left -= read;
            int offset = 0;
            while (offset < read)
            {
                if (writer.FreeSpace.IsEmpty)
                    await writer.FlushChunkAsync().ConfigureAwait(false);
                TextScanStatus status = scanner.Scan(buffer.AsSpan(offset, read - offset), writer.FreeSpace, out int consumed, out int written);
                writer.Advance(written);
                offset += consumed;
                if (status is TextScanStatus.BareCr or TextScanStatus.BareLf or TextScanStatus.Nul)
                    return "the message is not in canonical form (" + status + ")";
                if (status == TextScanStatus.OutputFull)
                    await writer.FlushChunkAsync().ConfigureAwait(false);
            }
        }
        if (scanner.Finish() != TextScanStatus.EndOfData)
            return "the message ends inside a line end";
        if (writer.TooBig)
            return $"the message is larger than Smtp:MaxMessageSize ({writer.MaxSize} octets)";
        return null;
    }

    /// <summary>A file that will never make a message: out of the maildrop, kept for the administrator, logged.</summary>
    private void MoveAside(string path, string reason)
    {
        Directory.CreateDirectory(_corrupt, PrivateModes.Directory);
        string target = Path.Combine(_corrupt, (Path.GetDirectoryName(path) == _shared ? "shared." : "") + Path.GetFileName(path));
        int errno = Libc.Rename(path, target);
        if (errno == 0)
            _log.LogError("maildrop: {File}: moved to {Target}: {Reason}", Path.GetFileName(path), target, reason);
        else
            _log.LogError("maildrop: {File}: {Reason}; and it cannot be moved aside: {Error}", Path.GetFileName(path), reason, Libc.ErrorMessage(errno));
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }
}
