using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Bench.Smtp;

/// <summary>
/// One client socket with its reply buffer, reopened for each new connection of a session. Waits are stamped so a
/// watchdog on another thread can abort a connection that has been silent too long (<see cref="AbortIfStalled"/>),
/// which costs no timer per operation.
/// </summary>
internal sealed class SmtpConnection : IDisposable
{
    private readonly byte[] _buffer;
    private volatile Socket? _socket;
    private Stream? _stream;
    private int _start;
    private int _end;
    private long _waitingSince;
    private volatile bool _timedOut;

    public SmtpConnection(int bufferSize) => _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);

    public bool IsOpen => _stream is not null;

    /// <summary>The watchdog aborted the current connection.</summary>
    public bool TimedOut => _timedOut;

    /// <summary>The keywords of the last EHLO reply read with <c>readCapabilities</c>.</summary>
    public SmtpExtensions Capabilities { get; private set; }

    public static bool IsTransportError(Exception e) =>
        e is IOException or SocketException or ObjectDisposedException or OperationCanceledException;

    public async ValueTask OpenAsync(EndPoint server)
    {
        Close();
        _timedOut = false;
        _start = _end = 0;
        Capabilities = SmtpExtensions.None;
        // NoDelay: a message is written as a few large writes; Nagle would hold the last partial segment back
        // until the server's delayed ACK.
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket = socket;
        BeginWait();
        try
        {
            await socket.ConnectAsync(server);
        }
        finally
        {
            EndWait();
        }
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>The TLS handshake over the open connection (after <c>220</c> to STARTTLS, or at once for implicit
    /// TLS). The certificate must name <paramref name="host"/> and chain to a system root or to <paramref name="trust"/>.</summary>
    public async ValueTask StartTlsAsync(string host, X509Certificate2Collection? trust)
    {
        if (_end != _start)
            throw new IOException("the server sent more after its reply to STARTTLS");
        var options = new SslClientAuthenticationOptions { TargetHost = host };
        if (trust is not null)
        {
            options.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(trust);
        }
        var tls = new SslStream(_stream!, leaveInnerStreamOpen: false);
        BeginWait();
        try
        {
            await tls.AuthenticateAsClientAsync(options);
        }
        catch
        {
            await tls.DisposeAsync();
            _stream = null;
            throw;
        }
        finally
        {
            EndWait();
        }
        _stream = tls;
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data)
    {
        BeginWait();
        ValueTask write = _stream!.WriteAsync(data);
        if (write.IsCompletedSuccessfully)
        {
            EndWait();
            return default;
        }
        return AwaitWriteAsync(write);
    }

    /// <summary>
    /// The next reply's code, or <see cref="Failure.Io"/> when the server closed the connection first,
    /// <see cref="Failure.Protocol"/> when what came is no reply (or longer than the buffer).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadReplyAsync(bool readCapabilities = false)
    {
        while (true)
        {
            int code = TryTakeReply(readCapabilities);
            if (code != 0)
                return code;
            if (_end == _buffer.Length)
            {
                if (_start == 0)
                    return Failure.Protocol;
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            BeginWait();
            int read;
            try
            {
                read = await _stream!.ReadAsync(_buffer.AsMemory(_end));
            }
            finally
            {
                EndWait();
            }
            if (read == 0)
                return Failure.Io;
            _end += read;
        }
    }

    /// <summary>Open with nothing to read: the server has neither closed it nor said anything unasked.</summary>
    public bool IsQuiet()
    {
        Socket? socket = _socket;
        if (socket is null || _stream is null || _end > _start)
            return false;
        try
        {
            return !socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception e) when (IsTransportError(e))
        {
            return false;
        }
    }

    /// <summary>Called by the watchdog: aborts the connection when one wait has lasted longer than <paramref name="limit"/>.</summary>
    public void AbortIfStalled(long now, long limit)
    {
        long since = Volatile.Read(ref _waitingSince);
        if (since == 0 || now - since <= limit)
            return;
        _timedOut = true;
        _socket?.Dispose();
    }

    public void Close()
    {
        _stream?.Dispose();
        _socket?.Dispose();
        _stream = null;
        _socket = null;
        EndWait();
    }

    public void Dispose()
    {
        Close();
        ArrayPool<byte>.Shared.Return(_buffer);
    }

    private int TryTakeReply(bool readCapabilities)
    {
        if (_end == _start)
            return 0;
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(_buffer, _start, _end - _start));
        switch (SmtpReplyParser.TryReadReply(ref reader, out int code, out ReadOnlySequence<byte> reply))
        {
            case ReplyReadStatus.Complete:
                if (readCapabilities)
                    Capabilities = SmtpReplyParser.ReadExtensions(reply).Extensions;
                _start += (int)reader.Consumed;
                if (_start == _end)
                    _start = _end = 0;
                return code;
            case ReplyReadStatus.Malformed:
                return Failure.Protocol;
            default:
                return 0;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitWriteAsync(ValueTask write)
    {
        try
        {
            await write;
        }
        finally
        {
            EndWait();
        }
    }

    private void BeginWait() => Volatile.Write(ref _waitingSince, Stopwatch.GetTimestamp());

    private void EndWait() => Volatile.Write(ref _waitingSince, 0);
}
