using System.Text;
using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests;

/// <summary>One count of failed logins per client address for SMTP AUTH and POP3: failures at one protocol count at
/// the other, so an attacker does not get both budgets; each protocol locks the address out at its own limit
/// (<c>Smtp:MaxAuthFailures</c>, <c>Pop3:MaxLoginFailures</c>).</summary>
public sealed class SharedLoginFailureTests
{
    private static string Plain(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

    private static Task<TestServer> StartAsync(int smtpLimit, int pop3Limit) => TestServer.StartAsync(o =>
    {
        o.Smtp.MaxAuthFailures = smtpLimit;
        o.Smtp.AuthFailureDelay = TimeSpan.Zero;
        o.Pop3.MaxLoginFailures = pop3Limit;
        o.Pop3.LoginFailureDelay = TimeSpan.Zero;
    }, logLevel: Microsoft.Extensions.Logging.LogLevel.Information);

    private static async Task FailSmtpAuthAsync(TestServer server, int times)
    {
        using RawSmtp raw = await RawSmtp.ConnectAsync(server.Port);
        await raw.ExpectAsync("220 ");
        await raw.EhloAsync();
        for (int i = 0; i < times; i++)
        {
            await raw.SendAsync($"AUTH PLAIN {Plain("alice", "wrong")}\r\n");
            await raw.ExpectAsync("535 5.7.8 ");
        }
    }

    private static async Task FailPop3LoginAsync(TestServer server, int times)
    {
        using RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port);
        for (int i = 0; i < times; i++)
        {
            Assert.StartsWith("+OK", await pop.CommandAsync("USER alice"));
            Assert.Equal("-ERR [AUTH] authentication failed", await pop.CommandAsync("PASS wrong"));
        }
    }

    [Fact]
    public async Task SmtpAuthFailuresLockTheAddressOutOfPop3AtPop3sLimit()
    {
        await using TestServer server = await StartAsync(smtpLimit: 10, pop3Limit: 3);
        await FailSmtpAuthAsync(server, 3);

        // The right password: POP3 already sees three failures from this address.
        using RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port);
        Assert.StartsWith("+OK", await pop.CommandAsync("USER alice"));
        Assert.Equal("-ERR [AUTH] too many failed logins from your address; try again later", await pop.CommandAsync("PASS alice-secret"));
        Assert.True(await pop.ClosedAsync());

        // SMTP's own limit is 10: AUTH is still taken there.
        using RawSmtp raw = await RawSmtp.ConnectAsync(server.Port);
        await raw.ExpectAsync("220 ");
        await raw.EhloAsync();
        await raw.SendAsync($"AUTH PLAIN {Plain("alice", "alice-secret")}\r\n");
        await raw.ExpectAsync("235 ");
    }

    [Fact]
    public async Task Pop3FailuresLockTheAddressOutOfSmtpAuthAtSmtpsLimit()
    {
        await using TestServer server = await StartAsync(smtpLimit: 3, pop3Limit: 10);
        await FailPop3LoginAsync(server, 2);

        using (RawSmtp raw = await RawSmtp.ConnectAsync(server.Port))
        {
            await raw.ExpectAsync("220 ");
            await raw.EhloAsync();
            // The third failure of this address, the first at SMTP: SMTP's limit of 3 is reached.
            await raw.SendAsync($"AUTH PLAIN {Plain("alice", "wrong")}\r\n");
            await raw.ExpectAsync("421 4.7.0 mx.example.test Error: too many authentication failures");
            Assert.True(await raw.ClosedAsync());
        }
        Assert.Contains(server.Log.Lines, l => l.Contains("[127.0.0.1]: SASL PLAIN authentication failed: sasl_username=alice, failures=3", StringComparison.Ordinal));
        using (RawSmtp raw = await RawSmtp.ConnectAsync(server.Port))
        {
            await raw.ExpectAsync("220 ");
            await raw.EhloAsync();
            await raw.SendAsync($"AUTH PLAIN {Plain("alice", "alice-secret")}\r\n");
            await raw.ExpectAsync("421 4.7.0 ");
        }

        // POP3's own limit is 10: a login is still taken there.
        using RawPop3 pop = await RawPop3.ConnectAsync(server.Pop3Port);
        await pop.LoginAsync();
    }
}
