using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using FastSpool.Configuration;

namespace FastSpool.Delivery.Relay;

/// <summary>The relay transport's settings, from <c>Relay</c> and <c>Smtp:Hostname</c>, checked and parsed once.</summary>
public sealed class RelaySettings
{
    private readonly X509Certificate2Collection? _trusted;
    private readonly string? _passwordFile;

    public RelaySettings(RelayOptions options, string hostname, int maxReceivedHeaders, RelayTimeouts? timeouts = null)
    {
        if (options.Smarthost is null || !RelayOptions.TryParseSmarthost(options.Smarthost, options.DefaultPort, out string host, out int port))
            throw new ArgumentException("Relay:Smarthost is not set or not host[:port]", nameof(options));
        Host = host;
        Port = port;
        Tls = options.Tls switch { "implicit" => RelayTls.Implicit, "none" => RelayTls.None, _ => RelayTls.StartTls };
        VerifyCertificate = options.VerifyCertificate;
        if (options.TrustedCertificate is not null)
        {
            _trusted = [];
            _trusted.ImportFromPemFile(options.TrustedCertificate);
        }
        Username = string.IsNullOrEmpty(options.Username) ? null : options.Username;
        _passwordFile = options.PasswordFile;
        MaxConnections = options.MaxConnections;
        MessagesPerConnection = options.MessagesPerConnection;
        Hostname = hostname;
        MaxReceivedHeaders = maxReceivedHeaders;
        Timeouts = timeouts ?? new RelayTimeouts();
    }

    public string Host { get; }

    public int Port { get; }

    public RelayTls Tls { get; }

    public bool VerifyCertificate { get; }

    public string? Username { get; }

    public int MaxConnections { get; }

    public int MessagesPerConnection { get; }

    /// <summary>Our name: said in EHLO, and a smarthost that greets with it is ourselves (a loop).</summary>
    public string Hostname { get; }

    public int MaxReceivedHeaders { get; }

    public RelayTimeouts Timeouts { get; }

    /// <summary>The destination's name in the queue: the smarthost as configured.</summary>
    public string Destination => $"{Host}:{Port}";

    /// <summary>The first line of Relay:PasswordFile, read for each connection so that a new password needs no restart.</summary>
    internal string ReadPassword()
    {
        try
        {
            using var reader = new StreamReader(_passwordFile!);
            return reader.ReadLine() ?? "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RelayFailure(Transport.DeliveryResult.Temporary("4.7.0", $"cannot read Relay:PasswordFile {_passwordFile}: {e.Message}", 451));
        }
    }

    /// <summary>The certificate must name the host (always, unless verification is off), and chain to a root the
    /// system trusts or to a certificate of Relay:TrustedCertificate (a private CA, or the smarthost's own).</summary>
    internal bool AcceptsCertificate(X509Certificate2? certificate, SslPolicyErrors errors)
    {
        if (!VerifyCertificate)
            return true;
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
            return false;
        if (errors == SslPolicyErrors.None)
            return true;
        if (_trusted is null)
            return false;
        foreach (X509Certificate2 pinned in _trusted)
        {
            if (pinned.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
                return true;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
