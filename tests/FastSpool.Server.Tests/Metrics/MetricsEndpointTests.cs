using System.Net;
using System.Net.Http.Headers;
using FastSpool.Server.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace FastSpool.Server.Tests.Metrics;

/// <summary>The metrics endpoint end to end: MailKit sends (one message accepted, one recipient refused), the queue
/// delivers, HttpClient scrapes, and the text is read by the test's own parser.</summary>
public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private const string OpenMetricsAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    private readonly HttpClient _http = new();
    private TestServer _server = null!;
    private int _metricsPort;

    public async Task InitializeAsync()
    {
        _metricsPort = TestServer.FreePort();
        _server = await TestServer.StartAsync(o => o.Metrics.Listen = [$"127.0.0.1:{_metricsPort}"]);
        _http.BaseAddress = new Uri($"http://127.0.0.1:{_metricsPort}");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private string Listener => $"127.0.0.1:{_server.Port}";

    private async Task<(HttpResponseMessage Response, Scrape Scrape)> ScrapeAsync(bool openMetrics = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (openMetrics)
            request.Headers.TryAddWithoutValidation("Accept", OpenMetricsAccept);
        HttpResponseMessage response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response, Scrape.Parse(await response.Content.ReadAsStringAsync(), openMetrics));
    }

    /// <summary>One connection: a message to alice (accepted, delivered), then one to nobody (refused at RCPT).</summary>
    private async Task SendOneAcceptedAndOneRefusedAsync()
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", _server.Port, SecureSocketOptions.None);
        await client.SendAsync(TestMessage.Create("counted"));
        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(TestMessage.Create("refused", to: "nobody@localhost")));
        Assert.Equal(SmtpStatusCode.MailboxUnavailable, refused.StatusCode);
        await client.DisconnectAsync(true);
        await _server.DeliveredAsync("alice", 1);
    }

    [Fact]
    public async Task AScrapeCountsTheAcceptedTheRefusedAndTheDeliveredMail()
    {
        await SendOneAcceptedAndOneRefusedAsync();

        // The session ends on the server's side after QUIT's reply: wait for the open connections to drop to none.
        Scrape scrape = null!;
        await Wait.UntilAsync(async () =>
        {
            scrape = (await ScrapeAsync()).Scrape;
            return scrape.Value("fastspool_smtp_connections_open", ("listener", Listener)) == 0;
        }, because: "the SMTP session to end", observed: () => scrape.Text);

        Assert.Empty(scrape.Errors);
        Assert.Equal(1, scrape.Value("fastspool_smtp_connections_total", ("listener", Listener)));
        Assert.Equal(1, scrape.Value("fastspool_smtp_messages_accepted_total"));
        Assert.InRange(scrape.Value("fastspool_smtp_messages_accepted_bytes_total"), 200, 2000);
        Assert.Equal(1, scrape.Value("fastspool_smtp_rejects_total", ("command", "RCPT"), ("code", "550"), ("enhanced", "5.1.1")));
        Assert.Single(scrape.Samples, s => s.Name == "fastspool_smtp_rejects_total");
        Assert.Equal(1, scrape.Value("fastspool_deliveries_total", ("outcome", "sent"), ("transport", "local")));
        Assert.Single(scrape.Samples, s => s.Name == "fastspool_deliveries_total");
        Assert.Equal(0, scrape.Value("fastspool_queue_messages"));
        Assert.Equal(0, scrape.Value("fastspool_queue_recipients_deferred"));
        Assert.Equal(0, scrape.Value("fastspool_queue_oldest_age_seconds"));
        Assert.True(scrape.Value("fastspool_process_allocated_bytes_total") > 0);
        Assert.True(scrape.Value("fastspool_process_resident_bytes") > 0);
        Assert.True(scrape.Value("fastspool_process_threads") > 0);
        Assert.True(scrape.Value("fastspool_process_gc_collections_total", ("generation", "0")) >= 0);

        // The message's envelope waited for a commit, and so did the delivery's journal: the histogram has both.
        double waits = scrape.Value("fastspool_queue_commit_wait_seconds_count");
        Assert.True(waits >= 2, $"{waits} commit waits");
        Assert.Equal(waits, scrape.Value("fastspool_queue_commit_wait_seconds_bucket", ("le", "+Inf")));
        Assert.True(scrape.Value("fastspool_queue_commit_wait_seconds_sum") > 0);
        double[] buckets = [.. scrape.Samples.Where(s => s.Name == "fastspool_queue_commit_wait_seconds_bucket").Select(s => s.Value)];
        Assert.Equal(buckets.Order(), buckets);
        Assert.True(scrape.Value("fastspool_queue_commit_duration_seconds_count") >= 1);
    }

    /// <summary>After some mail, a scrape in the format asked for, checked for its content type and its framing.</summary>
    private async Task<Scrape> ScrapeFramedAsync(bool openMetrics, string contentType)
    {
        await SendOneAcceptedAndOneRefusedAsync();
        (HttpResponseMessage response, Scrape scrape) = await ScrapeAsync(openMetrics);
        using (response)
            Assert.Equal(contentType, response.Content.Headers.ContentType?.ToString());
        Assert.Empty(scrape.Errors);
        Assert.All(scrape.Types.Keys, family => Assert.True(scrape.Help.ContainsKey(family), $"{family} has no HELP"));
        return scrape;
    }

    /// <summary>POP3: a session that logs in, retrieves and deletes one message and quits, one wrong password, and a
    /// second session for a maildrop in use; each is counted once, and no session is left open.</summary>
    [Fact]
    public async Task AScrapeCountsPop3SessionsLoginsRetrievedAndDeletedMessages()
    {
        await SendOneAcceptedAndOneRefusedAsync();
        using (RawPop3 wrong = await RawPop3.ConnectAsync(_server.Pop3Port))
        {
            Assert.StartsWith("+OK", await wrong.CommandAsync("USER alice"));
            Assert.StartsWith("-ERR", await wrong.CommandAsync("PASS not-the-password"));
        }
        using (RawPop3 pop = await RawPop3.ConnectAsync(_server.Pop3Port))
        {
            await pop.LoginAsync();
            using (RawPop3 second = await RawPop3.ConnectAsync(_server.Pop3Port))
            {
                Assert.StartsWith("+OK", await second.CommandAsync("USER alice"));
                Assert.StartsWith("-ERR [IN-USE]", await second.CommandAsync("PASS alice-secret"));
            }
            string size = (await pop.CommandAsync("LIST 1")).Split(' ')[2];
            Assert.StartsWith("+OK", await pop.CommandAsync("RETR 1"));
            while (await pop.ReadLineAsync() != ".")
            {
            }
            Assert.StartsWith("+OK", await pop.CommandAsync("DELE 1"));
            Assert.StartsWith("+OK", await pop.CommandAsync("QUIT"));

            Scrape scrape = null!;
            await Wait.UntilAsync(async () =>
            {
                scrape = (await ScrapeAsync()).Scrape;
                return scrape.Value("fastspool_pop3_connections_open") == 0;
            }, because: "every POP3 session closed", observed: () => scrape?.Text ?? "");
            Assert.Empty(scrape.Errors);
            Assert.Equal(3, scrape.Value("fastspool_pop3_connections_total"));
            Assert.Equal(1, scrape.Value("fastspool_pop3_logins_total", ("result", "ok")));
            Assert.Equal(1, scrape.Value("fastspool_pop3_logins_total", ("result", "failed")));
            Assert.Equal(1, scrape.Value("fastspool_pop3_logins_total", ("result", "in_use")));
            Assert.Equal(1, scrape.Value("fastspool_pop3_messages_retrieved_total"));
            Assert.Equal(double.Parse(size, System.Globalization.CultureInfo.InvariantCulture), scrape.Value("fastspool_pop3_messages_retrieved_bytes_total"));
            Assert.Equal(1, scrape.Value("fastspool_pop3_messages_deleted_total"));
        }
    }

    [Fact]
    public async Task OpenMetricsFramingHasHelpAndTypeBeforeTheSamplesAndEofLast()
    {
        Scrape scrape = await ScrapeFramedAsync(openMetrics: true, "application/openmetrics-text; version=1.0.0; charset=utf-8");
        Assert.True(scrape.EndsWithEof);
        Assert.EndsWith("\n# EOF\n", scrape.Text, StringComparison.Ordinal);
        Assert.Equal("counter", scrape.Types["fastspool_smtp_rejects"]);
        Assert.Equal("gauge", scrape.Types["fastspool_queue_messages"]);
        Assert.Equal("histogram", scrape.Types["fastspool_queue_commit_wait_seconds"]);
        Assert.Contains("# UNIT fastspool_queue_oldest_age_seconds seconds\n", scrape.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAskingForOpenMetricsTheScraperGetsPrometheusText()
    {
        Scrape scrape = await ScrapeFramedAsync(openMetrics: false, "text/plain; version=0.0.4; charset=utf-8");
        Assert.False(scrape.EndsWithEof);
        Assert.Equal("counter", scrape.Types["fastspool_smtp_rejects_total"]);
        Assert.DoesNotContain("# UNIT", scrape.Text, StringComparison.Ordinal);
        Assert.Equal(1, scrape.Value("fastspool_smtp_messages_accepted_total"));
    }

    [Theory]
    [InlineData("GET", "/queue")]
    [InlineData("GET", "/queue/counters")]
    [InlineData("GET", "/queue/6B05C71800000")]
    [InlineData("POST", "/queue/flush")]
    [InlineData("POST", "/queue/delete")]
    [InlineData("GET", "/")]
    [InlineData("GET", "/metrics/")]
    public async Task TheMetricsPortAnswersNothingButMetrics(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
            request.Content = new StringContent("""{"all":true}""", MediaTypeHeaderValue.Parse("application/json"));
        using HttpResponseMessage response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not found: the metrics are at GET /metrics\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OnlyGetAndHeadReadTheMetrics()
    {
        using HttpResponseMessage post = await _http.PostAsync("/metrics", new StringContent(""));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(["GET", "HEAD"], post.Content.Headers.Allow.Order());
        using HttpResponseMessage head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/metrics"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }
}
