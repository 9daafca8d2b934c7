using System.Security.Cryptography.X509Certificates;
using FastSpool.Configuration;
using FastSpool.Delivery.Relay;
using FastSpool.Delivery.Tests.Support;
using FastSpool.Delivery.Transport;
using FastSpool.Queue;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastSpool.Delivery.Tests.Relay;

/// <summary>STARTTLS, implicit TLS's absence aside, certificate checks and AUTH against the fault server with a
/// certificate made for the test: nothing (no password, no sender) is sent in clear when TLS is required.</summary>
public sealed class RelayTlsTests : IAsyncLifetime
{
    private readonly SchedulerHarness _harness = new();
    private readonly TaskCompletionSource _gate;
    private readonly TempDirectory _dir = new();
    private readonly X509Certificate2 _certificate = TestCertificates.SelfSigned("smarthost.test");
    private readonly FaultSmarthost _fault;
    private RelayTransport? _relay;

    public RelayTlsTests()
    {
        _fault = new FaultSmarthost(_certificate) { Login = ("me", "s3cret") };
        _harness.Router.Add("friend");
        _gate = _harness.Transport.Gate("friend");
    }

    public Task InitializeAsync() => _harness.StartAsync();

    public async Task DisposeAsync()
    {
        if (_relay is not null)
            await _relay.DisposeAsync();
        _gate.TrySetResult();
        await _harness.DisposeAsync();
        await _fault.DisposeAsync();
        _dir.Dispose();
    }

    private RelayOptions Options(string host = "127.0.0.1", bool pin = true)
    {
        string pem = Path.Combine(_dir.Path, "smarthost.pem");
        TestCertificates.WritePem(_certificate, pem);
        string password = Path.Combine(_dir.Path, "relay.pw");
        File.WriteAllText(password, "s3cret\n");
        return new RelayOptions
        {
            Smarthost = $"{host}:{_fault.Port}",
            TrustedCertificate = pin ? pem : null,
            Username = "me",
            PasswordFile = password,
        };
    }

    private async Task<DeliveryResult> DeliverAsync(RelayOptions options)
    {
        _relay = new RelayTransport(new RelaySettings(options, SchedulerHarness.Hostname, 50), _harness.MailQueue, _harness.Clock, NullLogger.Instance);
        QueuedMessage message = await _harness.SubmitAsync("alice@example.test", ["friend@elsewhere.example"]);
        var results = new DeliveryResult[1];
        await _relay.DeliverAsync(_relay.Destination, [new DeliveryItem(message, 0, "friend@elsewhere.example")], results, CancellationToken.None);
        return results[0];
    }

    private void AssertNothingSentInClear() =>
        Assert.DoesNotContain(_fault.Commands, c => c.StartsWith("AUTH", StringComparison.Ordinal) || c.StartsWith("MAIL", StringComparison.Ordinal));

    [Fact]
    public async Task StartTlsWithAPinnedCertificateThenAuthPlainThenTheMessage()
    {
        DeliveryResult result = await DeliverAsync(Options());
        Assert.Equal(DeliveryResultKind.Sent, result.Kind);
        List<string> commands = [.. _fault.Commands];
        Assert.Equal(["EHLO " + SchedulerHarness.Hostname, "STARTTLS", "EHLO " + SchedulerHarness.Hostname], commands[..3]);
        Assert.StartsWith("AUTH PLAIN ", commands[3], StringComparison.Ordinal);
        Assert.Single(_fault.Messages);
    }

    [Fact]
    public async Task ImplicitTlsSpeaksTlsFromTheFirstOctet()
    {
        _fault.ImplicitTls = true;
        RelayOptions options = Options();
        options.Tls = "implicit";
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverAsync(options)).Kind);
        Assert.DoesNotContain("STARTTLS", _fault.Commands);
        Assert.StartsWith("AUTH PLAIN ", _fault.Commands.ElementAt(1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASmarthostWithoutStartTlsGetsNothingAndTheMailIsDeferred()
    {
        await using var plain = new FaultSmarthost { Login = ("me", "s3cret") };
        RelayOptions options = Options();
        options.Smarthost = $"127.0.0.1:{plain.Port}";
        DeliveryResult result = await DeliverAsync(options);
        Assert.Equal((DeliveryResultKind.Temporary, "4.7.4"), (result.Kind, result.Reply.EnhancedStatus));
        Assert.StartsWith("TLS is required, but was not offered by host", result.Reply.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(plain.Commands, c => c.StartsWith("AUTH", StringComparison.Ordinal) || c.StartsWith("MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUntrustedCertificateIsATemporaryFailure()
    {
        DeliveryResult result = await DeliverAsync(Options(pin: false));
        Assert.Equal((DeliveryResultKind.Temporary, "4.7.5"), (result.Kind, result.Reply.EnhancedStatus));
        AssertNothingSentInClear();
        Assert.Empty(_fault.Messages);
    }

    [Fact]
    public async Task ACertificateForAnotherNameIsRefusedEvenWhenPinned()
    {
        // The certificate names smarthost.test and 127.0.0.1; localhost is neither.
        DeliveryResult result = await DeliverAsync(Options(host: "localhost"));
        Assert.Equal((DeliveryResultKind.Temporary, "4.7.5"), (result.Kind, result.Reply.EnhancedStatus));
        Assert.Empty(_fault.Messages);
    }

    [Fact]
    public async Task WithVerificationOffAnyCertificateIsTaken()
    {
        RelayOptions options = Options(host: "localhost", pin: false);
        options.VerifyCertificate = false;
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverAsync(options)).Kind);
    }

    [Fact]
    public async Task AFailedAuthDefersAndSendsNoMail()
    {
        _fault.Login = ("me", "another");
        DeliveryResult result = await DeliverAsync(Options());
        Assert.Equal((DeliveryResultKind.Temporary, "4.7.0"), (result.Kind, result.Reply.EnhancedStatus));
        Assert.Contains("SASL authentication failed", result.Reply.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(_fault.Commands, c => c.StartsWith("MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AuthLoginIsUsedWhenPlainIsNotOffered()
    {
        _fault.LoginOnly = true;
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverAsync(Options())).Kind);
        Assert.Contains("AUTH LOGIN", _fault.Commands);
    }

    [Fact]
    public async Task WithTlsNoneThePasswordGoesInClearBecauseTheConfigurationSaysSo()
    {
        await using var plain = new FaultSmarthost { Login = ("me", "s3cret") };
        RelayOptions options = Options();
        options.Smarthost = $"127.0.0.1:{plain.Port}";
        options.Tls = "none";
        Assert.Equal(DeliveryResultKind.Sent, (await DeliverAsync(options)).Kind);
        Assert.Contains(plain.Commands, c => c.StartsWith("AUTH PLAIN", StringComparison.Ordinal));
    }
}
