using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MimeKit;

namespace FastSpool.Server.Tests.Support;

/// <summary>Python's aiosmtpd (Debian's python3-aiosmtpd) as the smarthost, a real upstream written by others: STARTTLS
/// required, AUTH required after it (PLAIN or LOGIN, one user), with a certificate made by the test. Each message it
/// accepts is written to a directory: the text as received and the envelope as JSON.</summary>
internal sealed class Aiosmtpd : IAsyncDisposable
{
    private const string Script = """
        import sys, os, json, ssl
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword
        port, cert, key, out, user, password = sys.argv[1:7]
        class Handler:
            async def handle_DATA(self, server, session, envelope):
                n = len([f for f in os.listdir(out) if f.endswith('.json')])
                base = os.path.join(out, '%05d' % n)
                with open(base + '.eml', 'wb') as f:
                    f.write(envelope.original_content)
                meta = {'from': envelope.mail_from, 'to': envelope.rcpt_tos, 'options': envelope.mail_options,
                        'tls': session.ssl is not None, 'authenticated': bool(session.authenticated), 'port': session.peer[1]}
                with open(base + '.tmp', 'w') as f:
                    json.dump(meta, f)
                os.rename(base + '.tmp', base + '.json')
                return '250 2.0.0 Ok: queued as A%05d' % n
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        controller = Controller(Handler(), hostname='127.0.0.1', port=int(port), server_hostname='upstream.test', tls_context=context,
                                require_starttls=True, authenticator=authenticator, auth_required=True, decode_data=False)
        controller.start()
        print('ready', flush=True)
        sys.stdin.read()
        controller.stop()
        """;

    private readonly Process _process;

    private Aiosmtpd(Process process, string directory, int port, string certificatePath)
    {
        _process = process;
        Directory = directory;
        Port = port;
        CertificatePath = certificatePath;
    }

    public int Port { get; }

    /// <summary>Where the accepted messages are (NNNNN.eml and NNNNN.json).</summary>
    public string Directory { get; }

    /// <summary>The server's certificate as PEM, for Relay:TrustedCertificate.</summary>
    public string CertificatePath { get; }

    /// <summary>A Python that has aiosmtpd: the one on the PATH, else the system's (where Debian's package goes).</summary>
    private static readonly string? Python = new[] { "python3", "/usr/bin/python3" }.FirstOrDefault(p =>
    {
        try
        {
            return Tool.Run(p, "-c", "import aiosmtpd").ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    public static bool IsInstalled => Python is not null;

    public static async Task<Aiosmtpd> StartAsync(string directory, string user, string password)
    {
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "in"));
        string certificate = Path.Combine(directory, "upstream.pem"), key = Path.Combine(directory, "upstream.key");
        using (var made = TestCertificates.SelfSigned("localhost"))
            TestCertificates.WritePem(made, certificate, key);
        int port = TestServer.FreePort();
        var info = new ProcessStartInfo(Python!) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "-c", Script, port.ToString(System.Globalization.CultureInfo.InvariantCulture), certificate, key, Path.Combine(directory, "in"), user, password })
            info.ArgumentList.Add(argument);
        Process process = Process.Start(info)!;
        Task<string?> ready = process.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(ready, Task.Delay(TimeSpan.FromSeconds(30))) != ready || await ready != "ready")
        {
            process.Kill();
            Assert.Fail("aiosmtpd did not start: " + await process.StandardError.ReadToEndAsync());
        }
        return new Aiosmtpd(process, Path.Combine(directory, "in"), port, certificate);
    }

    /// <summary>Waits for <paramref name="count"/> messages and reads them: the text with MimeKit, the envelope from JSON.</summary>
    public async Task<List<(MimeMessage Message, JsonElement Envelope)>> ReceivedAsync(int count)
    {
        await Wait.UntilAsync(() => System.IO.Directory.GetFiles(Directory, "*.json").Length >= count, because: $"aiosmtpd to receive {count} messages");
        var messages = new List<(MimeMessage, JsonElement)>();
        foreach (string json in System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal))
        {
            MimeMessage message = await MimeMessage.LoadAsync(Path.ChangeExtension(json, ".eml"));
            messages.Add((message, JsonDocument.Parse(await File.ReadAllTextAsync(json, Encoding.UTF8)).RootElement.Clone()));
        }
        return messages;
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
        _process.Dispose();
    }
}
