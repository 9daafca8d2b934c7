using System.Net;
using System.Security.Cryptography.X509Certificates;
using FastSpool.Server.Tests.Support;
using FastSpool.Tests;
using FastSpool.Users;
using MailKit.Net.Pop3;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace FastSpool.Server.Tests;

/// <summary>TLS and AUTH through the native <c>fastspool</c>, as installed: the cryptography (SslStream, SCRAM with
/// its channel binding, the certificate reload), SASLprep's tables and the cipher names in Received all work compiled
/// ahead of time, as they do on the JIT in the other tests.</summary>
public sealed class NativeTlsAuthTests : IDisposable
{
    private const string Password = "s\u00E9cret p\u00E4ss";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "fastspool-native-tls-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly X509Certificate2 _certificate = TestCertificates.SelfSigned("localhost");

    public NativeTlsAuthTests()
    {
        Directory.CreateDirectory(_data);
        TestCertificates.WritePem(_certificate, Path.Combine(_data, "cert.pem"), Path.Combine(_data, "key.pem"));
        var users = new UserStore(_data);
        users.Add("alice", PasswordHasher.Hash(Password));
        users.Add("bob", null);
    }

    public void Dispose()
    {
        _certificate.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task SubmissionWithScramPlusOverStartTlsAndPop3OverStlsWork()
    {
        int port = TestServer.FreePort(), submission = TestServer.FreePort(), pop3 = TestServer.FreePort();
        using ServerProcess server = await ServerProcess.StartAsync(_data, port,
            $"--Tls:Certificate={Path.Combine(_data, "cert.pem")}", $"--Tls:Key={Path.Combine(_data, "key.pem")}",
            $"--Smtp:Submission:0=127.0.0.1:{submission}", $"--Pop3:Listen:0=127.0.0.1:{pop3}");
        string thumbprint = _certificate.GetCertHashString();

        using (var smtp = new SmtpClient { ServerCertificateValidationCallback = (_, c, _, _) => c?.GetCertHashString() == thumbprint })
        {
            await smtp.ConnectAsync("localhost", submission, SecureSocketOptions.StartTls);
            Assert.Contains("SCRAM-SHA-256-PLUS", smtp.AuthenticationMechanisms);
            await smtp.AuthenticateAsync(new SaslMechanismScramSha256Plus(new NetworkCredential("alice", Password)));
            await smtp.SendAsync(TestMessage.Create("native", "over TLS\n", "bob@localhost", "alice@localhost"));
            await smtp.DisconnectAsync(true);
        }
        await Mailbox.WaitForAsync(Path.Combine(_data, "mail", "bob"), 1);
        MimeMessage delivered = Mailbox.Read(Path.Combine(_data, "mail", "bob")).Single().Message;
        Assert.Contains("(using TLSv1.", delivered.Headers[HeaderId.Received], StringComparison.Ordinal);
        Assert.Contains("with cipher TLS_", delivered.Headers[HeaderId.Received], StringComparison.Ordinal);
        await server.WaitForOutputAsync("sasl_method=SCRAM-SHA-256-PLUS, sasl_username=alice");
        await server.WaitForOutputAsync("Anonymous TLS connection established from [127.0.0.1]: TLSv1.");

        // bob has no password; alice reads her own (empty) maildrop over STLS with a password in another but
        // equivalent form (SASLprep: decomposed accents).
        using var pop = new Pop3Client { ServerCertificateValidationCallback = (_, c, _, _) => c?.GetCertHashString() == thumbprint };
        await pop.ConnectAsync("localhost", pop3, SecureSocketOptions.StartTls);
        await pop.AuthenticateAsync("alice", "se\u0301cret pa\u0308ss");
        Assert.Equal(0, pop.Count);
        await pop.DisconnectAsync(true);
        await server.StopAsync();
    }
}
