using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FastSpool.Configuration;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Tls;

/// <summary>The server's certificate (<c>Tls:Certificate</c>, <c>Tls:Key</c>, PEM) as the options of a TLS handshake,
/// shared by every listener and protocol that speaks TLS: SMTP's STARTTLS and implicit-TLS submission, and POP3's
/// STLS and port 995. TLS 1.2 and 1.3 only. <see cref="CheckFiles"/> reads the files again when either changed (a
/// renewed certificate is used for new handshakes without a restart), <see cref="TryChangePaths"/> takes a pair at
/// other paths (a reload); a pair that does not load is logged and the one in use kept.</summary>
public sealed class ServerCertificate
{
    private readonly Lock _gate = new();
    private string _certificatePath;
    private string _keyPath;
    private readonly ILogger _log;
    private volatile Loaded _loaded;
    private (DateTime, long, DateTime, long) _files;

    private ServerCertificate(string certificatePath, string keyPath, ILogger log, SslServerAuthenticationOptions options, (DateTime, long, DateTime, long) files)
    {
        _certificatePath = certificatePath;
        _keyPath = keyPath;
        _log = log;
        _loaded = new Loaded(options);
        _files = files;
    }

    /// <summary>One loaded pair: the handshake options and the tls-server-end-point binding data of its certificate
    /// (null when its signature algorithm defines none), taken together by a handshake.</summary>
    public sealed class Loaded(SslServerAuthenticationOptions options)
    {
        public SslServerAuthenticationOptions Options { get; } = options;

        public byte[]? EndPointBinding { get; } = TlsServerEndPoint.Compute(options.ServerCertificateContext!.TargetCertificate);
    }

    /// <summary>The pair for the next handshake.</summary>
    public Loaded Current => _loaded;

    /// <summary>The options for the next handshake (<see cref="SslStream.AuthenticateAsServerAsync(SslServerAuthenticationOptions, CancellationToken)"/>).</summary>
    public SslServerAuthenticationOptions Options => _loaded.Options;

    /// <summary>The certificate in use.</summary>
    public X509Certificate2 Certificate => _loaded.Options.ServerCertificateContext!.TargetCertificate;

    /// <summary>Reads the pair at start; a file that is missing, unreadable or not a certificate with its key stops the
    /// start with a message naming the key.</summary>
    /// <exception cref="ServerStartException">With <see cref="StartFailure.Configuration"/>.</exception>
    public static ServerCertificate Load(TlsOptions tls, ILogger log)
    {
        string certificate = tls.Certificate ?? throw new ArgumentException("Tls:Certificate is not set", nameof(tls));
        string key = tls.Key ?? throw new ArgumentException("Tls:Key is not set", nameof(tls));
        (DateTime, long, DateTime, long) files = Stat(certificate, key);
        if (!TryRead(certificate, key, out SslServerAuthenticationOptions? options, out string? error))
            throw new ServerStartException(StartFailure.Configuration, error);
        var loaded = new ServerCertificate(certificate, key, log, options, files);
        loaded.LogLoaded("loaded");
        return loaded;
    }

    /// <summary>Reads the pair again if either file changed since the last look (called about once a second).</summary>
    public void CheckFiles()
    {
        lock (_gate)
        {
            (DateTime, long, DateTime, long) files = Stat(_certificatePath, _keyPath);
            if (files == _files)
                return;
            // Remembered even when the pair does not load: a certificate written before its new key is tried again
            // when the key comes, not every second meanwhile.
            _files = files;
            if (!TryRead(_certificatePath, _keyPath, out SslServerAuthenticationOptions? options, out string? error))
            {
                _log.LogWarning("tls: the changed certificate was not taken, the one in use stays: {Error}", error);
                return;
            }
            _loaded = new Loaded(options);
            LogLoaded("reloaded");
        }
    }

    /// <summary>Takes the pair at other paths (<c>Tls:Certificate</c> or <c>Tls:Key</c> changed at a reload): used for
    /// the next handshake and watched from then on. A pair that does not load is logged and the one in use kept, at
    /// its old paths; false then.</summary>
    public bool TryChangePaths(string certificatePath, string keyPath)
    {
        lock (_gate)
        {
            (DateTime, long, DateTime, long) files = Stat(certificatePath, keyPath);
            if (!TryRead(certificatePath, keyPath, out SslServerAuthenticationOptions? options, out string? error))
            {
                _log.LogWarning("tls: the certificate at the new paths was not taken, the one in use stays: {Error}", error);
                return false;
            }
            (_certificatePath, _keyPath, _files) = (certificatePath, keyPath, files);
            _loaded = new Loaded(options);
            LogLoaded("loaded");
            return true;
        }
    }

    private void LogLoaded(string what)
    {
        X509Certificate2 certificate = Certificate;
        _log.LogInformation("tls: certificate {What} from {Path}: subject {Subject}, valid until {NotAfter:yyyy-MM-dd HH:mm:ss}Z",
            what, _certificatePath, certificate.Subject, certificate.NotAfter.ToUniversalTime());
        if (certificate.NotAfter.ToUniversalTime() < DateTime.UtcNow)
            _log.LogWarning("tls: the certificate in {Path} expired at {NotAfter:yyyy-MM-dd HH:mm:ss}Z", _certificatePath, certificate.NotAfter.ToUniversalTime());
    }

    private static (DateTime, long, DateTime, long) Stat(string certificate, string key)
    {
        var c = new FileInfo(certificate);
        var k = new FileInfo(key);
        return (c.Exists ? c.LastWriteTimeUtc : default, c.Exists ? c.Length : -1, k.Exists ? k.LastWriteTimeUtc : default, k.Exists ? k.Length : -1);
    }

    private static bool TryRead(string certificatePath, string keyPath, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SslServerAuthenticationOptions? options,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        options = null;
        if (!TryReadText("Tls:Certificate", certificatePath, out string? certificateText, out error)
            || !TryReadText("Tls:Key", keyPath, out string? keyText, out error))
        {
            return false;
        }
        try
        {
            X509Certificate2 leaf;
            using (X509Certificate2 pem = X509Certificate2.CreateFromPem(certificateText, keyText))
            {
                // An ephemeral key from PEM works for TLS on Linux, but not everywhere; a PKCS#12 round trip works on all.
                leaf = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            var chain = new X509Certificate2Collection();
            chain.ImportFromPem(certificateText);
            var intermediates = new X509Certificate2Collection();
            foreach (X509Certificate2 c in chain)
            {
                if (c.Thumbprint != leaf.Thumbprint)
                    intermediates.Add(c);
            }
            options = new SslServerAuthenticationOptions
            {
                ServerCertificateContext = SslStreamCertificateContext.Create(leaf, intermediates, offline: true),
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateRequired = false,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            };
            return true;
        }
        catch (CryptographicException e)
        {
            error = $"Tls:Certificate: {certificatePath} with Tls:Key {keyPath}: not a PEM certificate and its private key ({e.Message.TrimEnd('.')})";
            return false;
        }
        catch (ArgumentException e)
        {
            error = $"Tls:Certificate: {certificatePath} with Tls:Key {keyPath}: not a PEM certificate and its private key ({e.Message.TrimEnd('.')})";
            return false;
        }
    }

    private static bool TryReadText(string key, string path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? text,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        text = null;
        error = null;
        try
        {
            text = File.ReadAllText(path);
            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            error = $"{key}: {path}: no such file";
        }
        catch (UnauthorizedAccessException)
        {
            error = $"{key}: {path}: permission denied (the server's user must be able to read it)";
        }
        catch (IOException e)
        {
            error = $"{key}: {path}: {e.Message}";
        }
        return false;
    }
}
