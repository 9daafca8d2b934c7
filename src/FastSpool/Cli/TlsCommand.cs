using System.CommandLine;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FastSpool.Cli;

/// <summary><c>fastspool tls self-signed --host NAME</c>: a certificate and key for a first start, before a real one
/// is at hand. Clients must be told to trust it (or to skip the check), as for any self-signed certificate.</summary>
internal static class TlsCommand
{
    public static Command Create(CliContext context)
    {
        var host = new Option<string>("--host") { Description = "The server's name, as clients connect to it (the certificate's subject and DNS name)", Required = true };
        var certificate = new Option<string>("--certificate") { Description = "Where to write the certificate (PEM)", DefaultValueFactory = _ => "cert.pem" };
        var key = new Option<string>("--key") { Description = "Where to write the private key (PEM, mode 0600)", DefaultValueFactory = _ => "key.pem" };
        var days = new Option<int>("--days") { Description = "Days the certificate is valid", DefaultValueFactory = _ => 825 };
        var force = new Option<bool>("--force") { Description = "Replace files that exist" };
        var keyType = new Option<string>("--key-type")
        {
            Description = "rsa (2048 bits, what every client takes) or ecdsa (P-256: a handshake costs the server a fraction of RSA's)",
            DefaultValueFactory = _ => "rsa",
        };
        keyType.AcceptOnlyFromAmong("rsa", "ecdsa");
        var selfSigned = new Command("self-signed", "Write a self-signed certificate and its key for Tls:Certificate and Tls:Key") { host, certificate, key, days, keyType, force };
        selfSigned.SetAction(result => SelfSigned(context, result.GetValue(host)!, result.GetValue(certificate)!, result.GetValue(key)!,
            result.GetValue(days), result.GetValue(keyType) == "ecdsa", result.GetValue(force)));
        return new Command("tls", "TLS certificates") { selfSigned };
    }

    private static int SelfSigned(CliContext context, string host, string certificatePath, string keyPath, int days, bool ecdsa, bool force)
    {
        host = host.Trim().TrimEnd('.');
        if (host.Length is 0 or > 253 || Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6))
            return context.Fail(ExitCode.Usage, $"tls self-signed: '{host}' is not a host name");
        if (days is < 1 or > 3650)
            return context.Fail(ExitCode.Usage, "tls self-signed: --days must be between 1 and 3650");
        certificatePath = Path.GetFullPath(certificatePath);
        keyPath = Path.GetFullPath(keyPath);
        foreach (string path in (string[])[certificatePath, keyPath])
        {
            if (File.Exists(path) && !force)
                return context.Fail(ExitCode.CantCreate, $"tls self-signed: {path} exists (--force replaces it)");
        }

        using AsymmetricAlgorithm privateKey = ecdsa ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : RSA.Create(2048);
        var subject = new X500DistinguishedName($"CN={host}");
        CertificateRequest request = privateKey is ECDsa ec
            ? new CertificateRequest(subject, ec, HashAlgorithmName.SHA256)
            : new CertificateRequest(subject, (RSA)privateKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        if (IPAddress.TryParse(host, out IPAddress? address))
            names.AddIpAddress(address);
        else
            names.AddDnsName(host);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            ecdsa ? X509KeyUsageFlags.DigitalSignature : X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // serverAuth
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 made = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(days));
        try
        {
            // The key first, private from its creation: it is never readable by others, not even for a moment.
            WriteFile(keyPath, privateKey.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            WriteFile(certificatePath, made.ExportCertificatePem() + "\n",
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return context.Fail(ExitCode.CantCreate, $"tls self-signed: {e.Message}");
        }
        context.Terminal.Out.WriteLine($"fastspool: wrote a self-signed certificate for {host} (valid until {made.NotAfter.ToUniversalTime():yyyy-MM-dd}, SHA-256 fingerprint {made.GetCertHashString(HashAlgorithmName.SHA256)})");
        context.Terminal.Out.WriteLine($"fastspool: configure it with \"Tls\": {{ \"Certificate\": \"{certificatePath}\", \"Key\": \"{keyPath}\" }}");
        return ExitCode.Ok;
    }

    private static void WriteFile(string path, string text, UnixFileMode mode)
    {
        string temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = mode;
        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
            writer.Write(text);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, mode);
        File.Move(temporary, path, overwrite: true);
    }
}
