using System.Security.Cryptography.X509Certificates;
using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests.Cli;

public sealed class TlsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fastspool-tlscli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SelfSignedWritesAPairTheServerCanLoadWithAPrivateKey()
    {
        string certificate = Path.Combine(_dir, "cert.pem"), key = Path.Combine(_dir, "key.pem");
        CliResult result = CliRunner.Run("tls", "self-signed", "--host", "mail.example.org", "--certificate", certificate, "--key", key);

        Assert.True(result.Code == 0, result.Error);
        Assert.Contains($"\"Tls\": {{ \"Certificate\": \"{certificate}\", \"Key\": \"{key}\" }}", result.Out, StringComparison.Ordinal);
        using X509Certificate2 pair = X509Certificate2.CreateFromPemFile(certificate, key);
        Assert.True(pair.HasPrivateKey);
        Assert.Equal("CN=mail.example.org", pair.Subject);
        Assert.Contains("mail.example.org", pair.GetNameInfo(X509NameType.DnsName, false), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        Assert.False(File.Exists(key + ".tmp"));
        AssertTheServerLoads(certificate, key, pair);
    }

    private static void AssertTheServerLoads(string certificate, string key, X509Certificate2 written)
    {
        var loaded = FastSpool.Server.Tls.ServerCertificate.Load(new FastSpool.Configuration.TlsOptions { Certificate = certificate, Key = key },
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.Equal(written.Thumbprint, loaded.Certificate.Thumbprint);
    }

    [Fact]
    public void SelfSignedMakesAnEcdsaPairOnRequest()
    {
        string certificate = Path.Combine(_dir, "cert.pem"), key = Path.Combine(_dir, "key.pem");
        CliResult result = CliRunner.Run("tls", "self-signed", "--host", "mx.example.org", "--key-type", "ecdsa", "--certificate", certificate, "--key", key);
        Assert.True(result.Code == 0, result.Error);
        using X509Certificate2 pair = X509Certificate2.CreateFromPemFile(certificate, key);
        using var ecdsa = pair.GetECDsaPrivateKey();
        Assert.NotNull(ecdsa);
        Assert.Equal(256, ecdsa.KeySize);
        AssertTheServerLoads(certificate, key, pair);
    }

    [Fact]
    public void SelfSignedKeepsFilesThatExistUnlessForced()
    {
        string certificate = Path.Combine(_dir, "cert.pem"), key = Path.Combine(_dir, "key.pem");
        File.WriteAllText(key, "mine\n");
        CliResult refused = CliRunner.Run("tls", "self-signed", "--host", "mx.example.org", "--certificate", certificate, "--key", key);
        Assert.Equal(73, refused.Code);
        Assert.Contains($"{key} exists (--force replaces it)", refused.Error, StringComparison.Ordinal);
        Assert.Equal("mine\n", File.ReadAllText(key));

        CliResult forced = CliRunner.Run("tls", "self-signed", "--host", "mx.example.org", "--certificate", certificate, "--key", key, "--force");
        Assert.True(forced.Code == 0, forced.Error);
        using X509Certificate2 pair = X509Certificate2.CreateFromPemFile(certificate, key);
        Assert.True(pair.HasPrivateKey);
    }

    [Fact]
    public void SelfSignedRefusesANameThatIsNoHostName()
    {
        CliResult result = CliRunner.Run("tls", "self-signed", "--host", "not a host", "--certificate", Path.Combine(_dir, "c"), "--key", Path.Combine(_dir, "k"));
        Assert.Equal(64, result.Code);
        Assert.Contains("'not a host' is not a host name", result.Error, StringComparison.Ordinal);
    }
}
