using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using FastSpool.Bench.Cli;
using FastSpool.Bench.Posix;

namespace FastSpool.Bench.Runs;

/// <summary>Drains users' maildrops over POP3 as a mail client does: USER, PASS, STAT, then RETR and DELE of every
/// message, QUIT (which makes the server rewrite the mailbox). Reports messages/s and MB/s of message text received,
/// and the server's CPU and peak RSS when its pid is given.</summary>
internal static class Pop3Bench
{
    public static async Task<int> RunAsync(Pop3BenchOptions options, TextWriter output, TextWriter error)
    {
        var endpoint = options.Server.Resolve();
        ServerProbe? probe = options.ServerPid is int pid ? new ServerProbe(pid) : null;
        int next = -1;
        long messages = 0, octets = 0;
        int failures = 0;
        using var timeout = new CancellationTokenSource(options.Timeout);
        using var polling = new CancellationTokenSource();
        Task poll = Task.Run(async () =>
        {
            while (!polling.IsCancellationRequested)
            {
                probe?.PollRss();
                try
                {
                    await Task.Delay(50, polling.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
        var watch = Stopwatch.StartNew();
        Task[] sessions = Enumerable.Range(0, Math.Min(options.Connections, options.Users.Count)).Select(_ => Task.Run(async () =>
        {
            int user;
            while ((user = Interlocked.Increment(ref next)) < options.Users.Count)
            {
                try
                {
                    (long m, long o) = await DrainAsync(endpoint, options.Users[user], options.Password, timeout.Token);
                    Interlocked.Add(ref messages, m);
                    Interlocked.Add(ref octets, o);
                }
                catch (Exception e) when (e is IOException or SocketException or InvalidDataException or OperationCanceledException)
                {
                    Interlocked.Increment(ref failures);
                    error.WriteLine($"fastspool-bench: {options.Users[user]}: {e.Message}");
                }
            }
        })).ToArray();
        await Task.WhenAll(sessions);
        double seconds = watch.Elapsed.TotalSeconds;
        await polling.CancelAsync();
        await poll;
        string server = probe is { Found: true }
            ? string.Create(CultureInfo.InvariantCulture, $" server_cpu_s={probe.CpuSecondsUsed():F2} server_peak_rss_kb={probe.PeakRssKb}")
            : "";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pop3 {options.Server}: users={options.Users.Count} connections={options.Connections} messages={messages} bytes={octets} seconds={seconds:F2} msgs_per_s={messages / seconds:F0} mb_per_s={octets / seconds / 1e6:F1} failures={failures}{server}"));
        return failures == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static async Task<(long Messages, long Octets)> DrainAsync(System.Net.IPEndPoint endpoint, string user, string password, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(endpoint, cancellationToken);
        var reader = new Pop3Reader(client.GetStream());
        await reader.ExpectOkAsync(cancellationToken);
        await reader.CommandAsync($"USER {user}", cancellationToken);
        await reader.CommandAsync($"PASS {password}", cancellationToken);
        string stat = await reader.CommandAsync("STAT", cancellationToken);
        int count = int.Parse(stat.Split(' ')[1], CultureInfo.InvariantCulture);
        long octets = 0;
        for (int i = 1; i <= count; i++)
        {
            await reader.CommandAsync($"RETR {i}", cancellationToken);
            octets += await reader.SkipMultilineAsync(cancellationToken);
            await reader.CommandAsync($"DELE {i}", cancellationToken);
        }
        await reader.CommandAsync("QUIT", cancellationToken);
        return (count, octets);
    }

    /// <summary>Reads replies from a buffer: one-line replies, and multi-line ones skipped to their ".CRLF".</summary>
    private sealed class Pop3Reader(NetworkStream stream)
    {
        private readonly byte[] _buffer = new byte[256 * 1024];
        private int _start;
        private int _end;

        public async Task<string> CommandAsync(string command, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), cancellationToken);
            return await ExpectOkAsync(cancellationToken);
        }

        public async Task<string> ExpectOkAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                int lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (lf >= 0)
                {
                    string line = Encoding.ASCII.GetString(_buffer, _start, lf - _start).TrimEnd('\r');
                    _start = lf + 1;
                    if (!line.StartsWith("+OK", StringComparison.Ordinal))
                        throw new InvalidDataException("the server answered: " + line);
                    return line;
                }
                await FillAsync(cancellationToken);
            }
        }

        /// <summary>Skips a multi-line body up to and with its ".CRLF"; the octets before it.</summary>
        public async Task<long> SkipMultilineAsync(CancellationToken cancellationToken)
        {
            long octets = 0;
            while (true)
            {
                ReadOnlySpan<byte> data = _buffer.AsSpan(_start, _end - _start);
                int end = data.IndexOf("\r\n.\r\n"u8);
                if (end >= 0)
                {
                    octets += end + 2;
                    _start += end + 5;
                    return octets;
                }
                // Keep the last 4 octets: the terminator may straddle two reads.
                int keep = Math.Min(4, data.Length);
                octets += data.Length - keep;
                _start = _end - keep;
                await FillAsync(cancellationToken);
            }
        }

        private async Task FillAsync(CancellationToken cancellationToken)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
                throw new IOException("the server closed the connection");
            _end += read;
        }
    }
}
