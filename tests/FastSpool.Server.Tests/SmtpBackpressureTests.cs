using System.Text;
using FastSpool.Server.Tests.Support;
using FastSpool.Users;
using MailKit.Net.Smtp;
using MimeKit;
using Xunit.Abstractions;

namespace FastSpool.Server.Tests;

/// <summary>Clients that pipeline commands and never read the replies (RFC 2920 §3.1 asks them to read): the server
/// keeps a bounded amount of each one's replies and input and stops reading from it, instead of buffering all that
/// it provokes, and serves other clients meanwhile. Measured on the real server process.</summary>
public sealed class SmtpBackpressureTests(ITestOutputHelper output)
{
    private const int Clients = 200;
    private const long MaxGrowth = 100L * 1024 * 1024;

    // Far more than the server and the kernel's socket buffers between them hold: a client stops when its writes do.
    private const long FloodLimit = 16L * 1024 * 1024;
    private static readonly TimeSpan Stalled = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task ClientsThatPipelineHelpAndNeverReadGrowTheServerByLessThan100MBAndOthersAreServed()
    {
        string data = Path.Combine(Path.GetTempPath(), "fastspool-flood-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        try
        {
            new UserStore(data).Add("alice", null);
            await FloodAsync(data);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private async Task FloodAsync(string data)
    {
        int port = TestServer.FreePort();
        using ServerProcess server = await ServerProcess.StartAsync(data, port);

        // One ordinary dialogue and one short flood first, so that what is measured is the flood, not the first use.
        await SendAsync(port, "warm-up");
        using (RawSmtp warm = await OpenAsync(port))
            await warm.FloodAsync(Flood, 64 * 1024, Stalled);
        long baseline = Status(server.Id, "VmRSS");
        File.WriteAllText($"/proc/{server.Id}/clear_refs", "5"); // resets VmHWM, the peak resident size, to now

        var clients = new List<RawSmtp>();
        try
        {
            for (int i = 0; i < Clients; i++)
                clients.Add(await OpenAsync(port));
            long[] sent = await Task.WhenAll(clients.Select(c => c.FloodAsync(Flood, FloodLimit, Stalled)));
            Assert.All(sent, s => Assert.True(s < FloodLimit, $"a client wrote all {s} octets: the server kept reading"));

            // Every flooding client is still connected and blocked; another one gets its mail through.
            string reply = await SendAsync(port, "during the flood");
            Assert.StartsWith("2.0.0 Ok: queued as ", reply);

            long peak = Status(server.Id, "VmHWM");
            output.WriteLine($"{Clients} clients wrote {sent.Sum() / (1024 * 1024)} MiB of pipelined HELP (least {sent.Min() / 1024} KiB, most {sent.Max() / 1024} KiB); " +
                $"server resident {baseline / (1024 * 1024)} MiB before, peak {peak / (1024 * 1024)} MiB during: +{(peak - baseline) / (1024 * 1024)} MiB");
            Assert.True(peak - baseline < MaxGrowth, $"the server grew by {(peak - baseline) / (1024 * 1024)} MiB under the flood (from {baseline / (1024 * 1024)} MiB)");
        }
        finally
        {
            foreach (RawSmtp client in clients)
                client.Dispose();
        }
    }

    /// <summary>64 KiB of pipelined <c>HELP</c>: 6 octets in, a 77-octet reply out.</summary>
    private static readonly byte[] Flood = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("HELP\r\n", 64 * 1024 / 6)));

    private static async Task<RawSmtp> OpenAsync(int port)
    {
        RawSmtp raw = await RawSmtp.ConnectAsync(port);
        await raw.ExpectAsync("220 ");
        await raw.SendAsync("EHLO flood.test\r\n");
        await raw.ExpectAsync("250 CHUNKING");
        return raw;
    }

    private static async Task<string> SendAsync(int port, string subject)
    {
        using var client = new SmtpClient { Timeout = 30_000 };
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("bob@example.org"));
        message.To.Add(MailboxAddress.Parse("alice@localhost"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "served" };
        string reply = await client.SendAsync(message);
        await client.DisconnectAsync(quit: true);
        return reply;
    }

    /// <summary>A size from <c>/proc/PID/status</c>, in bytes.</summary>
    private static long Status(int pid, string field)
    {
        string line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
