using FastSpool.Bench.Messages;

namespace FastSpool.Bench.Cli;

/// <summary>The <c>smtp</c> verb's settings, checked by <see cref="OptionParser"/>.</summary>
internal sealed class SmtpBenchOptions
{
    public required ServerAddress Server { get; init; }
    public int Connections { get; init; } = 10;
    public int Messages { get; init; } = 1000;
    public required SizeMix Sizes { get; init; }
    public required string To { get; init; }
    public string From { get; init; } = "bench@example.org";
    public bool Pipelining { get; init; }
    public bool Reuse { get; init; }
    public bool Bdat { get; init; }
    public bool Helo { get; init; }

    /// <summary>STARTTLS after EHLO, then EHLO again (RFC 3207).</summary>
    public bool StartTls { get; init; }

    /// <summary>TLS from the first octet (RFC 8314, port 465).</summary>
    public bool ImplicitTls { get; init; }

    /// <summary>A PEM certificate to trust for the server besides the system's roots (a self-signed one).</summary>
    public string? TrustCertificate { get; init; }

    /// <summary>AUTH PLAIN as this user (with <see cref="AuthPassword"/>) on every new connection.</summary>
    public string? AuthUser { get; init; }

    public string? AuthPassword { get; init; }

    /// <summary>The name the server's certificate is checked against.</summary>
    public string TlsHost { get; init; } = "localhost";
    public string? UntilDelivered { get; init; }
    public string? JsonPath { get; init; }

    /// <summary>The longest wait for one reply, and for delivery with <c>--until-delivered</c>.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(300);

    public int? ServerPid { get; init; }

    /// <summary>A FastSpool log with statistics lines: the server's allocated bytes per accepted message.</summary>
    public string? ServerLog { get; init; }
}
