using System.Net;
using System.Text;
using FastSpool.Server.Tests.Support;
using FastSpool.Users;
using MailKit.Net.Pop3;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace FastSpool.Server.Tests;

/// <summary>Non-ASCII passwords through real clients (MailKit over SMTP AUTH and POP3): the server prepares what it is
/// sent with SASLprep (RFC 4013), so a password typed in another but equivalent form logs in, as it does with SCRAM,
/// whose client prepares it; a password stored before FastSpool prepared passwords still logs in as it was typed; a
/// string SASLprep refuses gets the ordinary failure and a log line that names why.</summary>
public sealed class SaslPrepLoginTests : IAsyncLifetime
{
    // carol's password as `fastspool user add` stores it: "fi pässwörd" (the ligature, no-break space and soft hyphen
    // of the typed form below are gone)...
    private const string Prepared = "fi p\u00E4ssw\u00F6rd";

    // ... and as a client may type it: LATIN SMALL LIGATURE FI, NO-BREAK SPACE, decomposed umlauts, a SOFT HYPHEN.
    private const string Typed = "\uFB01\u00A0pa\u0308ssw\u00ADo\u0308rd";

    // A form that SASLprep's mapping alone makes the stored one. SCRAM clients prepare the password themselves, and
    // MailKit's NFKC is string.Normalize, which does nothing under invariant globalization (as these tests run), so
    // SCRAM is shown with this form.
    private const string MappedOnly = "fi\u00A0p\u00E4ssw\u00AD\u00F6rd";

    // dave's was stored before passwords were prepared: as typed, with a no-break space.
    private const string Legacy = "old\u00A0p\u00E4ss";

    // erin's too, and SASLprep refuses it (right-to-left text ending in left-to-right digits, RFC 3454 §6).
    private const string LegacyRefused = "\u05E9\u05DC\u05D5\u05DD123";

    private TlsServer _tls = null!;

    public async Task InitializeAsync()
    {
        _tls = await TlsServer.StartAsync();
        var users = new UserStore(_tls.Server.Options.DataDirectory);
        users.Add("carol", PasswordHasher.Hash(Prepared));
        users.Add("dave", PasswordHasher.Hash(Legacy));
        users.Add("erin", PasswordHasher.Hash(LegacyRefused));
        await _tls.Server.WaitUntilDeliverableAsync("dave");
        await _tls.Server.WaitUntilDeliverableAsync("erin");
    }

    public async Task DisposeAsync() => await _tls.DisposeAsync();

    [Theory]
    [InlineData("PLAIN", Typed)]
    [InlineData("PLAIN", Prepared)]
    [InlineData("SCRAM-SHA-256", MappedOnly)]
    [InlineData("SCRAM-SHA-256", Prepared)]
    public async Task SmtpAuthTakesEveryFormOfANonAsciiPassword(string mechanism, string password)
    {
        using SmtpClient client = await _tls.ConnectAsync(_tls.SubmissionPort, SecureSocketOptions.StartTls);
        var credentials = new NetworkCredential("carol", password);
        await client.AuthenticateAsync(mechanism == "PLAIN" ? new SaslMechanismPlain(credentials) : new SaslMechanismScramSha256(credentials));
        Assert.True(client.IsAuthenticated);
        await client.SendAsync(TestMessage.Create("as carol", to: "bob@localhost", from: "carol@localhost"));
        await client.DisconnectAsync(true);
        await _tls.Server.DeliveredAsync("bob", 1);
        Assert.Contains(_tls.Log.Lines, l => l.Contains($"sasl_method={mechanism}, sasl_username=carol", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APasswordStoredBeforePreparationStillLogsInAsTyped()
    {
        using (SmtpClient client = await _tls.ConnectAsync(_tls.SubmissionPort, SecureSocketOptions.StartTls))
        {
            await client.AuthenticateAsync(new SaslMechanismPlain(new NetworkCredential("dave", Legacy)));
            await client.DisconnectAsync(true);
        }
        using Pop3Client pop = await Pop3Async();
        await pop.AuthenticateAsync("dave", Legacy);
        await pop.DisconnectAsync(true);
    }

    [Fact]
    public async Task APasswordStoredBeforePreparationThatSaslPrepRefusesStillLogsInAsTypedAndTheRefusalIsLogged()
    {
        using (SmtpClient client = await _tls.ConnectAsync(_tls.SubmissionPort, SecureSocketOptions.StartTls))
        {
            await client.AuthenticateAsync(new SaslMechanismPlain(new NetworkCredential("erin", LegacyRefused)));
            Assert.True(client.IsAuthenticated);
            await client.DisconnectAsync(true);
        }
        Assert.Contains(_tls.Log.Lines, l => l.Contains("SASL PLAIN: the password was refused by SASLprep (RFC 4013)", StringComparison.Ordinal));
        using (Pop3Client pop = await Pop3Async())
        {
            pop.AuthenticationMechanisms.Clear(); // USER and PASS
            await pop.AuthenticateAsync("erin", LegacyRefused);
            Assert.True(pop.IsAuthenticated);
            await pop.DisconnectAsync(true);
        }
        Assert.Contains(_tls.Log.Lines, l => l.Contains("login: user=<erin>, method=USER", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Pop3TakesAnEquivalentFormWithAuthPlainAndWithUserPass(bool sasl)
    {
        using Pop3Client pop = await Pop3Async();
        if (!sasl)
            pop.AuthenticationMechanisms.Clear(); // USER and PASS
        await pop.AuthenticateAsync("carol", Typed);
        Assert.True(pop.IsAuthenticated);
        await pop.DisconnectAsync(true);
        Assert.Contains(_tls.Log.Lines, l => l.Contains($"login: user=<carol>, method={(sasl ? "PLAIN" : "USER")}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APasswordSaslPrepRefusesGetsTheFailureReplyAndALogLineNamingWhy()
    {
        using (RawSmtp raw = await RawSmtp.ConnectAsync(_tls.SubmissionPort))
        {
            await raw.ExpectAsync("220 ");
            await raw.EhloAsync();
            string plain = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0carol\0bad\u0007bell"));
            await raw.SendAsync($"AUTH PLAIN {plain}\r\n");
            await raw.ExpectAsync("535 5.7.8 Error: authentication failed");
            await raw.SendAsync("NOOP\r\n");
            await raw.ExpectAsync("250 ");
        }
        Assert.Contains(_tls.Log.Lines, l => l.Contains(
            "[127.0.0.1]: SASL PLAIN: the password was refused by SASLprep (RFC 4013): prohibited character U+0007 (RFC 3454 C.2.1)", StringComparison.Ordinal));

        using (Pop3Client pop = await Pop3Async())
        {
            pop.AuthenticationMechanisms.Clear();
            await Assert.ThrowsAsync<AuthenticationException>(() => pop.AuthenticateAsync("carol", "\u0627x\u0628"));
            Assert.True(pop.IsConnected);
        }
        Assert.Contains(_tls.Log.Lines, l => l.Contains(
            "the password was refused by SASLprep (RFC 4013): right-to-left text mixed with left-to-right", StringComparison.Ordinal));
    }

    private async Task<Pop3Client> Pop3Async()
    {
        string expected = _tls.Certificate.GetCertHashString();
        var pop = new Pop3Client { ServerCertificateValidationCallback = (_, c, _, _) => c is not null && c.GetCertHashString() == expected };
        await pop.ConnectAsync("127.0.0.1", _tls.Server.Pop3Port, SecureSocketOptions.StartTls);
        return pop;
    }
}
