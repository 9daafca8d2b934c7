using System.IO.Pipelines;
using System.Net.Security;

namespace FastSpool.Server.Tls;

/// <summary>A connection after its TLS handshake: pipes over an <see cref="SslStream"/> over the connection's own
/// transport, for the session to read and write instead of the plaintext ones. A protocol engine makes one at
/// STARTTLS (or STLS), or before its greeting on an implicit-TLS listener, and disposes it when the session ends.</summary>
internal sealed class TlsConnection : IAsyncDisposable
{
    private readonly SslStream _stream;

    private TlsConnection(SslStream stream, byte[]? endPointBinding)
    {
        _stream = stream;
        EndPointBinding = endPointBinding;
        (int used, int total) = CipherBits(stream.NegotiatedCipherSuite);
        Description = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{ProtocolName(stream.SslProtocol)} with cipher {stream.NegotiatedCipherSuite} ({used}/{total} bits)");
        DescriptionBytes = System.Text.Encoding.ASCII.GetBytes(Description);
        // Buffers from the shared pool, as Kestrel's; a TLS record is at most 16 KiB.
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4 * 1024, leaveOpen: true));
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    /// <summary>The tls-server-end-point channel binding data (RFC 5929 §4) of the certificate this handshake used;
    /// null when it defines none.</summary>
    public byte[]? EndPointBinding { get; }

    /// <summary><c>TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)</c>, as Postfix writes it in its log line
    /// and Received header (the cipher's IANA name, as .NET gives it, where Postfix writes OpenSSL's).</summary>
    public string Description { get; }

    /// <summary><see cref="Description"/> in UTF-8, made once at the handshake for the Received header of each message.</summary>
    public byte[] DescriptionBytes { get; }

    /// <summary>The handshake, as the server, over <paramref name="transport"/>; throws what the handshake throws
    /// (<see cref="System.Security.Authentication.AuthenticationException"/>, <see cref="IOException"/>, cancellation)
    /// after releasing what it made.</summary>
    public static async Task<TlsConnection> AcceptAsync(IDuplexPipe transport, ServerCertificate certificate, CancellationToken cancellationToken)
    {
        var stream = new SslStream(new DuplexPipeStream(transport), leaveInnerStreamOpen: true);
        ServerCertificate.Loaded loaded = certificate.Current;
        try
        {
            await stream.AuthenticateAsServerAsync(loaded.Options, cancellationToken).ConfigureAwait(false);
            return new TlsConnection(stream, loaded.EndPointBinding);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The cipher's secret bits: those in use and those of the algorithm (Postfix's "256/256 bits"), from the
    /// bulk cipher the suite names. TLS 1.2 and 1.3 leave AES, ChaCha20, Camellia and ARIA; 3DES has 112 of its 168.</summary>
    internal static (int Used, int Total) CipherBits(TlsCipherSuite suite)
    {
        string name = suite.ToString();
        if (name.Contains("_WITH_NULL_", StringComparison.Ordinal))
            return (0, 0);
        if (name.Contains("3DES_EDE", StringComparison.Ordinal))
            return (112, 168);
        if (name.Contains("_256_", StringComparison.Ordinal) || name.Contains("CHACHA20", StringComparison.Ordinal))
            return (256, 256);
        if (name.Contains("_128_", StringComparison.Ordinal))
            return (128, 128);
        return (0, 0);
    }

    private static string ProtocolName(System.Security.Authentication.SslProtocols protocol) => protocol switch
    {
        System.Security.Authentication.SslProtocols.Tls13 => "TLSv1.3",
        System.Security.Authentication.SslProtocols.Tls12 => "TLSv1.2",
        _ => protocol.ToString(),
    };

    /// <summary>Ends TLS as RFC 8446 §6.1 asks, with a close_notify alert after what is left to send, so that the
    /// client can tell the end from a cut connection (some refuse to take a reply otherwise), then releases it. The
    /// alert is a courtesy: a client that is gone, or does not read it within <paramref name="wait"/> on
    /// <paramref name="time"/>'s clock, does not hold the session up.</summary>
    public async ValueTask CloseAsync(TimeProvider time, TimeSpan wait)
    {
        try
        {
            await FlushAndShutdownAsync().WaitAsync(wait, time).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or TimeoutException
            or System.Security.Authentication.AuthenticationException)
        {
            // The client is gone or not reading: it gets no alert.
        }
        await DisposeAsync().ConfigureAwait(false);
    }

    private async Task FlushAndShutdownAsync()
    {
        await Output.FlushAsync().ConfigureAwait(false);
        await _stream.ShutdownAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync().ConfigureAwait(false);
        try
        {
            await Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client is gone: what was left unsent goes with it.
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
