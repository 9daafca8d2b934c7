using System.Security.Cryptography.X509Certificates;
using FastSpool.Configuration;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Tests.Support;

/// <summary>A <see cref="TestServer"/> with a certificate made at test time (for <c>localhost</c> and 127.0.0.1) and
/// the three kinds of SMTP listener: <see cref="TestServer.Port"/> (Smtp:Listen), <see cref="SubmissionPort"/>
/// (STARTTLS) and <see cref="ImplicitTlsPort"/> (TLS from the first octet). The user alice's password is
/// <see cref="Password"/>.</summary>
internal sealed class TlsServer : IAsyncDisposable
{
    public const string Password = "alice-secret";

    private TlsServer(TestServer server, string directory, X509Certificate2 certificate, int submission, int implicitTls)
    {
        Server = server;
        Directory = directory;
        Certificate = certificate;
        SubmissionPort = submission;
        ImplicitTlsPort = implicitTls;
    }

    public TestServer Server { get; }

    /// <summary>Holds the certificate's files: cert.pem, key.pem.</summary>
    public string Directory { get; }

    public X509Certificate2 Certificate { get; }

    public string CertificatePath => Path.Combine(Directory, "cert.pem");

    public string KeyPath => Path.Combine(Directory, "key.pem");

    public int Port => Server.Port;

    public int SubmissionPort { get; }

    public int ImplicitTlsPort { get; }

    public CapturedLog Log => Server.Log;

    public static async Task<TlsServer> StartAsync(Action<FastSpoolOptions>? configure = null, LogLevel logLevel = LogLevel.Information, string? dataDirectory = null)
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("fastspool-tls-").FullName;
        X509Certificate2 certificate = TestCertificates.SelfSigned("localhost");
        TestCertificates.WritePem(certificate, Path.Combine(directory, "cert.pem"), Path.Combine(directory, "key.pem"));
        int submission = TestServer.FreePort();
        int implicitTls = TestServer.FreePort();
        TestServer server = await TestServer.StartAsync(o =>
        {
            o.Tls.Certificate = Path.Combine(directory, "cert.pem");
            o.Tls.Key = Path.Combine(directory, "key.pem");
            o.Smtp.Submission = [$"127.0.0.1:{submission}"];
            o.Smtp.SubmissionTls = [$"127.0.0.1:{implicitTls}"];
            configure?.Invoke(o);
        }, dataDirectory, logLevel: logLevel);
        return new TlsServer(server, directory, certificate, submission, implicitTls);
    }

    /// <summary>MailKit's client, trusting this server's certificate and no other.</summary>
    public SmtpClient NewClient()
    {
        string expected = Certificate.GetCertHashString();
        return new SmtpClient { ServerCertificateValidationCallback = (_, c, _, _) => c is not null && c.GetCertHashString() == expected };
    }

    /// <summary>A MailKit client connected to <paramref name="port"/> with <paramref name="security"/>.</summary>
    public async Task<SmtpClient> ConnectAsync(int port, SecureSocketOptions security)
    {
        SmtpClient client = NewClient();
        await client.ConnectAsync("127.0.0.1", port, security);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Certificate.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
