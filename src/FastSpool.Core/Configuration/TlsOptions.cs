namespace FastSpool.Configuration;

/// <summary>Configuration section <c>Tls</c>: the server's certificate, shared by every listener that speaks TLS
/// (STARTTLS on the SMTP listeners, implicit TLS on <c>Smtp:SubmissionTls</c>). Both files are PEM and are read again
/// when they change.</summary>
public sealed class TlsOptions
{
    /// <summary>The certificate, followed by any intermediate certificates of its chain; null: no TLS.</summary>
    public string? Certificate { get; set; }

    /// <summary>The certificate's private key (PKCS#8, or the RSA/EC forms); must be readable by the server.</summary>
    public string? Key { get; set; }

    /// <summary>A certificate is configured: STARTTLS is offered and implicit-TLS listeners may be used.</summary>
    public bool Enabled => Certificate is not null;
}
