using System.Text;
using FastSpool.Queue;
using FastSpool.Server.Smtp;
using MimeKit;

namespace FastSpool.Server.Tests;

/// <summary>The trace header, read back by MimeKit and taken apart by <see cref="TraceClauses"/>: whatever the client
/// said in HELO, the header has the clauses FastSpool wrote and no others, and no header follows it.</summary>
public sealed class ReceivedHeaderTests
{
    private static readonly DateTimeOffset Time = new(2026, 11, 24, 17, 2, 50, TimeSpan.Zero);

    private static string Write(string helo, string recipient = "alice@localhost", string authenticated = "", string protocol = "ESMTP", string tls = "")
    {
        var buffer = new byte[ReceivedHeader.MaxLength];
        int n = ReceivedHeader.Write(buffer, new ReceivedHeader.Fields
        {
            Helo = Encoding.UTF8.GetBytes(helo),
            ClientAddress = "192.0.2.7"u8,
            Hostname = "mx.example.test"u8,
            Protocol = Encoding.ASCII.GetBytes(protocol),
            Id = new QueueId(0x6B05C71800001),
            Recipient = Encoding.UTF8.GetBytes(recipient),
            Time = Time,
            AuthenticatedSender = Encoding.UTF8.GetBytes(authenticated),
            Tls = Encoding.ASCII.GetBytes(tls),
        });
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    /// <summary>The header as a reader sees it: parsed by MimeKit from the text before a body, with every header that
    /// came out of it.</summary>
    private static HeaderList Parse(string header)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(header + "Subject: s\r\n\r\nbody\r\n"));
        return MimeMessage.Load(stream).Headers;
    }

    /// <summary>The words of a Received value outside its comments (RFC 5322 §3.2.2: nested, with quoted-pairs), and the
    /// comments' text; the date after the last ';' is checked to be a date and left out.</summary>
    public static (List<string> Words, List<string> Comments) TraceClauses(string value, DateTimeOffset? time = null)
    {
        var outside = new StringBuilder();
        var comments = new List<string>();
        var comment = new StringBuilder();
        int depth = 0;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (depth > 0 && c == '\\' && i + 1 < value.Length)
            {
                comment.Append(value[++i]);
                continue;
            }
            if (c == '(')
            {
                depth++;
                continue;
            }
            if (c == ')' && depth > 0)
            {
                if (--depth == 0)
                {
                    comments.Add(comment.ToString());
                    comment.Clear();
                }
                continue;
            }
            (depth > 0 ? comment : outside).Append(c);
        }
        Assert.True(depth == 0, $"an unclosed comment in '{value}'");
        string clauses = outside.ToString();
        int semicolon = clauses.LastIndexOf(';');
        Assert.True(semicolon >= 0, $"no date in '{value}'");
        DateTimeOffset date = DateTimeOffset.Parse(clauses[(semicolon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        if (time is not null)
            Assert.Equal(time, date);
        return ([.. clauses[..semicolon].Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries)], comments);
    }

    /// <summary>Checks that <paramref name="headers"/> hold one Received with exactly FastSpool's clauses, the from
    /// clause naming <paramref name="from"/>, and returns its comments.</summary>
    public static List<string> AssertOnlyOurClauses(HeaderList headers, string from, string recipient, string id)
    {
        Assert.Equal(["Received", "Subject"], headers.Where(h => h.Field != "Delivered-To" && h.Field != "Return-Path").Select(h => h.Field));
        (List<string> words, List<string> comments) = TraceClauses(headers["Received"] ?? "", Time);
        Assert.Equal(["from", from, "by", "mx.example.test", "with", "ESMTP", "id", id, "for", $"<{recipient}>"], words);
        return comments;
    }

    [Fact]
    public void AnAuthenticatedSenderIsWrittenAsPostfixWritesIt()
    {
        string header = Write("laptop.example.org", authenticated: "alice", protocol: "ESMTPSA");
        Assert.StartsWith("Received: from laptop.example.org ([192.0.2.7])\r\n\t(Authenticated sender: alice)\r\n\tby mx.example.test (FastSpool) with ESMTPSA id 6B05C71800001\r\n\tfor <alice@localhost>; ", header);
        Header received = Assert.Single(Parse(header), h => h.Id == HeaderId.Received);
        (List<string> words, List<string> comments) = TraceClauses(received.Value, Time);
        Assert.Equal(["from", "laptop.example.org", "by", "mx.example.test", "with", "ESMTPSA", "id", "6B05C71800001", "for", "<alice@localhost>"], words);
        Assert.Equal(["[192.0.2.7]", "Authenticated sender: alice", "FastSpool"], comments);
    }

    [Fact]
    public void TheTlsCipherIsWrittenAsPostfixWritesItBeforeTheAuthenticatedSender()
    {
        string header = Write("laptop.example.org", authenticated: "alice", protocol: "ESMTPSA", tls: "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
        Assert.StartsWith("Received: from laptop.example.org ([192.0.2.7])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\t(Authenticated sender: alice)\r\n\tby mx.example.test (FastSpool) with ESMTPSA id 6B05C71800001\r\n\tfor <alice@localhost>; ", header);
        Header received = Assert.Single(Parse(header), h => h.Id == HeaderId.Received);
        (List<string> words, _) = TraceClauses(received.Value, Time);
        Assert.Equal(["from", "laptop.example.org", "by", "mx.example.test", "with", "ESMTPSA", "id", "6B05C71800001", "for", "<alice@localhost>"], words);
    }

    [Theory]
    [InlineData(System.Net.Security.TlsCipherSuite.TLS_AES_256_GCM_SHA384, 256, 256)]
    [InlineData(System.Net.Security.TlsCipherSuite.TLS_AES_128_GCM_SHA256, 128, 128)]
    [InlineData(System.Net.Security.TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, 256, 256)]
    [InlineData(System.Net.Security.TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, 256, 256)]
    [InlineData(System.Net.Security.TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, 128, 128)]
    [InlineData(System.Net.Security.TlsCipherSuite.TLS_RSA_WITH_3DES_EDE_CBC_SHA, 112, 168)]
    [InlineData(System.Net.Security.TlsCipherSuite.TLS_RSA_WITH_NULL_SHA256, 0, 0)]
    public void TheCipherBitsComeFromTheSuitesBulkCipher(System.Net.Security.TlsCipherSuite suite, int used, int total) =>
        Assert.Equal((used, total), FastSpool.Server.Tls.TlsConnection.CipherBits(suite));

    [Theory]
    [InlineData("client.example.org")]
    [InlineData("client.example.org.")]
    [InlineData("localhost")]
    [InlineData("DESKTOP_7K2")]
    [InlineData("[192.0.2.7]")]
    [InlineData("[IPv6:2001:db8::7]")]
    public void HostNamesAndAddressLiteralsStandAsTheFromDomain(string helo)
    {
        string header = Write(helo);
        Assert.StartsWith($"Received: from {helo} ([192.0.2.7])\r\n\tby mx.example.test (FastSpool) with ESMTP id 6B05C71800001\r\n\tfor <alice@localhost>; ", header);
        List<string> comments = AssertOnlyOurClauses(Parse(header), helo, "alice@localhost", "6B05C71800001");
        Assert.Equal(["[192.0.2.7]", "FastSpool"], comments);
    }

    [Theory]
    [InlineData("evil)(by-fake.example;Injected:x", "evil??by-fake.example?Injected:x")]
    [InlineData("x)\r\n", "x???")]
    [InlineData("a)by(b", "a?by?b")]
    [InlineData("\\)(", "???")]
    [InlineData("\"quoted\"", "?quoted?")]
    [InlineData("<fake@example.org>;", "?fake@example.org??")]
    [InlineData("client..example", "client..example")]
    [InlineData("-client", "-client")]
    [InlineData("[192.0.2.7;x]", "[192.0.2.7?x]")]
    [InlineData("bücher.example", "b??cher.example")]
    public void AnyOtherHeloGoesIntoTheCommentWithTheOctetsThatCouldForgeTheTraceReplaced(string helo, string shown)
    {
        string header = Write(helo);
        Assert.StartsWith($"Received: from [192.0.2.7] (helo={shown})\r\n\tby mx.example.test (FastSpool) with ESMTP id 6B05C71800001", header);
        List<string> comments = AssertOnlyOurClauses(Parse(header), "[192.0.2.7]", "alice@localhost", "6B05C71800001");
        Assert.Equal([$"helo={shown}", "FastSpool"], comments);
    }
}
