using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FastSpool.Configuration;
using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests;

/// <summary>STARTTLS (RFC 3207) and implicit TLS as the protocol's edges need them: what EHLO offers before and after,
/// the state reset, commands pipelined behind STARTTLS (never executed), failed handshakes by the thousand, and the
/// certificate: a missing one stops the start naming the key, a changed one is taken without a restart.</summary>
public sealed class StartTlsTests
{
    [Fact]
    public async Task EhloOffersStartTlsBeforeTlsAndAuthOnlyAfterIt()
    {
        await using TlsServer tls = await TlsServer.StartAsync();
        tls.Server.Server.Smtp.PlaintextAuthOnLoopback = false;
        using RawSmtp raw = await RawSmtp.ConnectAsync(tls.Port);
        await raw.ExpectAsync("220 ");
        List<string> before = await raw.EhloAsync();
        Assert.Contains("250-STARTTLS", before);
        Assert.DoesNotContain(before, l => l.Contains("AUTH", StringComparison.Ordinal));

        await raw.SendAsync("STARTTLS\r\n");
        await raw.ExpectAsync("220 2.0.0 Ready to start TLS");
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls13, await raw.StartTlsAsync(tls.Certificate.GetCertHashString()));

        // RFC 3207 §4.2: the session starts over; the client must say EHLO again.
        await raw.SendAsync("MAIL FROM:<alice@localhost>\r\n");
        await raw.ExpectAsync("503 5.5.1 Error: send HELO/EHLO first");
        List<string> after = await raw.EhloAsync();
        Assert.DoesNotContain(after, l => l.Contains("STARTTLS", StringComparison.Ordinal));
        Assert.Contains("250-AUTH PLAIN LOGIN SCRAM-SHA-256 SCRAM-SHA-256-PLUS", after); // channel binding: over TLS only
        await raw.SendAsync("STARTTLS\r\n");
        await raw.ExpectAsync("554 5.5.1 Error: TLS already active");
    }

    [Fact]
    public async Task StartTlsIsRefusedInATransactionAndWithAnArgument()
    {
        await using TlsServer tls = await TlsServer.StartAsync();
        using RawSmtp raw = await RawSmtp.ConnectAsync(tls.Port);
        await raw.ExpectAsync("220 ");
        await raw.EhloAsync();
        await raw.SendAsync("STARTTLS now\r\n");
        await raw.ExpectAsync("501 5.5.4 Syntax: STARTTLS");
        await raw.SendAsync("MAIL FROM:<a@example.org>\r\n");
        await raw.ExpectAsync("250 ");
        await raw.SendAsync("STARTTLS\r\n");
        await raw.ExpectAsync("503 5.5.1 Error: MAIL transaction in progress");
    }

    [Fact]
    public async Task CommandsPipelinedBehindStartTlsAreDiscardedNeverExecuted()
    {
        await using TlsServer tls = await TlsServer.StartAsync();
        using RawSmtp raw = await RawSmtp.ConnectAsync(tls.Port);
        await raw.ExpectAsync("220 ");
        await raw.EhloAsync();
        // CVE-2011-0411: a man in the middle appends plaintext commands to the client's STARTTLS.
        const string injected = "MAIL FROM:<mallory@example.org>\r\nRCPT TO:<bob@localhost>\r\n";
        await raw.SendAsync("STARTTLS\r\n" + injected);
        await raw.ExpectAsync("220 2.0.0 Ready to start TLS");
        await raw.StartTlsAsync(tls.Certificate.GetCertHashString());

        // Had the MAIL been executed after the handshake, this one would be a nested MAIL; had the RCPT, DATA would go on.
        await raw.EhloAsync();
        await raw.SendAsync("DATA\r\n");
        await raw.ExpectAsync("503 5.5.1 Error: need MAIL command");
        await raw.SendAsync("MAIL FROM:<alice@localhost>\r\n");
        await raw.ExpectAsync("250 2.1.0 Ok");
        Assert.Contains(tls.Log.Lines, l => l.Contains($"[127.0.0.1]: {injected.Length} octets pipelined after STARTTLS discarded", StringComparison.Ordinal));
        Assert.DoesNotContain(tls.Log.Lines, l => l.Contains("mallory", StringComparison.Ordinal));
    }

    /// <summary>A TLS 1.0 ClientHello (RFC 2246 §7.4.1.2): version 3.1, one RSA cipher suite, no extensions.</summary>
    private static byte[] Tls10ClientHello()
    {
        byte[] random = new byte[32];
        Random.Shared.NextBytes(random);
        byte[] body = [0x03, 0x01, .. random, 0x00, 0x00, 0x02, 0x00, 0x2F, 0x01, 0x00];
        byte[] handshake = [0x01, 0x00, (byte)(body.Length >> 8), (byte)body.Length, .. body];
        return [0x16, 0x03, 0x01, (byte)(handshake.Length >> 8), (byte)handshake.Length, .. handshake];
    }

    private static async Task FailHandshakeAsync(int port, byte[] hello)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync(hello);
        byte[] buffer = new byte[1024];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            while (await stream.ReadAsync(buffer, deadline.Token) > 0)
            {
                // an alert, then the close
            }
        }
        catch (IOException)
        {
            // reset by the server: also an end
        }
    }

    /// <summary>Bounded: 1,000 connections, eight at a time, about 10 s.</summary>
    [Fact]
    public async Task FailedHandshakesEndCleanlyAreLoggedAndLeakNothing()
    {
        await using TlsServer tls = await TlsServer.StartAsync();
        byte[] garbage = "EHLO plaintext.example\r\n"u8.ToArray();
        async Task RoundAsync(int connections)
        {
            int next = 0;
            await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) <= connections)
                    await FailHandshakeAsync(tls.ImplicitTlsPort, i % 2 == 0 ? Tls10ClientHello() : garbage);
            }));
        }
        ListenerStatistics listener = tls.Server.Server.Smtp.Statistics.Listeners.Single(l => l.Name == $"127.0.0.1:{tls.ImplicitTlsPort}");

        await RoundAsync(100); // warm-up: pools and tiered code settle
        await Wait.UntilAsync(() => listener.Open == 0, because: "the warm-up's sessions to end", observed: () => $"{listener.Open} open");
        long before = GC.GetTotalMemory(forceFullCollection: true);
        await RoundAsync(1000);
        await Wait.UntilAsync(() => listener.Open == 0, because: "every failed session to end", observed: () => $"{listener.Open} open");
        long after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Equal(1100, listener.Opened);
        Assert.Equal(1100, tls.Log.Lines.Count(l => l.Contains("TLS handshake failed from [127.0.0.1]", StringComparison.Ordinal)));
        Assert.Equal(0, tls.Log.Lines.Count(l => l.Contains("TLS connection established", StringComparison.Ordinal)));
        Assert.True(after - before < 16 << 20, $"the managed heap grew by {(after - before) >> 10} KiB over 1,000 failed handshakes");
        await Wait.UntilAsync(() => tls.Server.Server.Smtp.Connections.Connections == 0, because: "every connection to be released",
            observed: () => $"{tls.Server.Server.Smtp.Connections.Connections} counted");

        // And the listener still serves.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", tls.ImplicitTlsPort);
        string thumbprint = tls.Certificate.GetCertHashString();
        using var ssl = new SslStream(tcp.GetStream(), false, (_, c, _, _) => c?.GetCertHashString() == thumbprint);
        await ssl.AuthenticateAsClientAsync("localhost");
        byte[] greeting = new byte[64];
        int n = await ssl.ReadAsync(greeting);
        Assert.StartsWith("220 mx.example.test ESMTP", System.Text.Encoding.ASCII.GetString(greeting, 0, n), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AChangedCertificateIsUsedWithoutARestart()
    {
        await using TlsServer tls = await TlsServer.StartAsync();
        using X509Certificate2 renewed = TestCertificates.SelfSigned("localhost");
        // The key first, then the certificate, as a renewal tool writes them: the pair is taken once both are in place.
        File.WriteAllText(tls.KeyPath + ".new", renewed.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.Move(tls.KeyPath + ".new", tls.KeyPath, overwrite: true);
        File.WriteAllText(tls.CertificatePath + ".new", renewed.ExportCertificatePem());
        File.Move(tls.CertificatePath + ".new", tls.CertificatePath, overwrite: true);

        string expected = renewed.GetCertHashString();
        await Wait.UntilAsync(async () =>
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", tls.ImplicitTlsPort);
            string old = tls.Certificate.GetCertHashString();
            using var ssl = new SslStream(tcp.GetStream(), false, (_, c, _, _) => c?.GetCertHashString() is { } h && (h == old || h == expected));
            await ssl.AuthenticateAsClientAsync("localhost");
            return ssl.RemoteCertificate?.GetCertHashString() == expected;
        }, TimeSpan.FromSeconds(15), "the renewed certificate to be served");
        Assert.Contains(tls.Log.Lines, l => l.Contains("tls: certificate reloaded from", StringComparison.Ordinal));
    }

    /// <summary>The certificate a TLS handshake with the implicit-TLS port is served now, one of <paramref name="known"/>.</summary>
    private static async Task<string> ServedAsync(TlsServer tls, params X509Certificate2[] known)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", tls.ImplicitTlsPort);
        using var ssl = new SslStream(tcp.GetStream(), false, (_, c, _, _) => c is not null && known.Any(k => k.GetCertHashString() == c.GetCertHashString()));
        await ssl.AuthenticateAsClientAsync("localhost");
        return ssl.RemoteCertificate!.GetCertHashString();
    }

    [Fact]
    public async Task NewCertificatePathsAreTakenAtAReloadAndAPairThatDoesNotLoadLeavesTheOldOne()
    {
        await using TlsServer tls = await TlsServer.StartAsync(logLevel: Microsoft.Extensions.Logging.LogLevel.Information);
        using X509Certificate2 other = TestCertificates.SelfSigned("localhost");
        string certificate = Path.Combine(tls.Directory, "other-cert.pem"), key = Path.Combine(tls.Directory, "other-key.pem");
        TestCertificates.WritePem(other, certificate, key);

        tls.Server.Reload(o => (o.Tls.Certificate, o.Tls.Key) = (certificate, key));
        Assert.Equal(other.GetCertHashString(), await ServedAsync(tls, tls.Certificate, other)); // the next handshake, no wait
        Assert.Contains(tls.Log.Lines, l => l == $"reload: Tls:Certificate: {tls.CertificatePath} -> {certificate}");
        Assert.Contains(tls.Log.Lines, l => l.StartsWith($"tls: certificate loaded from {certificate}: subject CN=localhost", StringComparison.Ordinal));

        // Back to the first paths, but the key there is no longer a key: the pair in use stays, paths and all.
        File.WriteAllText(tls.KeyPath, "not a key\n");
        tls.Server.Reload(o => { });
        Assert.Contains(tls.Log.Lines, l => l.StartsWith($"tls: the certificate at the new paths was not taken, the one in use stays: Tls:Certificate: {tls.CertificatePath} with Tls:Key {tls.KeyPath}: not a PEM certificate and its private key", StringComparison.Ordinal));
        Assert.Equal(other.GetCertHashString(), await ServedAsync(tls, tls.Certificate, other));
        Assert.Equal(certificate, tls.Server.Server.RunningOptions.Tls.Certificate);
    }

    [Fact]
    public void AMissingOrUnreadableCertificateIsAConfigurationErrorNamingTheKey()
    {
        var options = new FastSpoolOptions { Tls = { Certificate = "/nonexistent/cert.pem", Key = "/nonexistent/key.pem" } };
        options.ApplyDefaults();
        List<string> errors = OptionsValidator.Validate(options);
        Assert.Contains("Tls:Certificate: /nonexistent/cert.pem: no such file", errors);
        Assert.Contains("Tls:Key: /nonexistent/key.pem: no such file", errors);

        var half = new FastSpoolOptions { Tls = { Certificate = "/nonexistent/cert.pem" }, Smtp = { SubmissionTls = ["127.0.0.1:4650"] } };
        half.ApplyDefaults();
        Assert.Contains("Tls:Key: not set, but Tls:Certificate is (give both, or neither)", OptionsValidator.Validate(half));
        var none = new FastSpoolOptions { Smtp = { SubmissionTls = ["127.0.0.1:4650"] } };
        none.ApplyDefaults();
        Assert.Contains("Smtp:SubmissionTls: implicit TLS needs a certificate (set Tls:Certificate and Tls:Key)", OptionsValidator.Validate(none));
    }

    [Fact]
    public async Task AFileThatIsNoCertificateStopsTheStartNamingTheKey()
    {
        string directory = Directory.CreateTempSubdirectory("fastspool-badcert-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "cert.pem"), "not a certificate\n");
            File.WriteAllText(Path.Combine(directory, "key.pem"), "not a key\n");
            var e = await Assert.ThrowsAsync<ServerStartException>(() => TestServer.StartAsync(o =>
            {
                o.Tls.Certificate = Path.Combine(directory, "cert.pem");
                o.Tls.Key = Path.Combine(directory, "key.pem");
            }));
            Assert.Equal(StartFailure.Configuration, e.Failure);
            Assert.StartsWith($"Tls:Certificate: {directory}/cert.pem with Tls:Key {directory}/key.pem: not a PEM certificate and its private key", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
