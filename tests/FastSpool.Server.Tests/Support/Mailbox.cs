using MimeKit;

namespace FastSpool.Server.Tests.Support;

/// <summary>Reads an mbox file with MimeKit's mbox parser (an independent reader), and waits for deliveries.</summary>
internal static class Mailbox
{
    public static List<(string Marker, MimeMessage Message)> Read(string path)
    {
        var result = new List<(string, MimeMessage)>();
        if (!File.Exists(path))
            return result;
        using FileStream stream = File.OpenRead(path);
        var parser = new MimeParser(stream, MimeFormat.Mbox);
        while (!parser.IsEndOfStream)
        {
            MimeMessage message = parser.ParseMessage();
            result.Add((parser.MboxMarker ?? "", message));
        }
        return result;
    }

    /// <summary>Counts messages the cheap way ("From " lines), which is what load.sh does too.</summary>
    public static int CountSeparators(string path)
    {
        if (!File.Exists(path))
            return 0;
        int count = 0;
        using var reader = new StreamReader(path);
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith("From ", StringComparison.Ordinal))
                count++;
        }
        return count;
    }

    /// <summary>Waits until the mailbox holds at least <paramref name="count"/> messages. More may still come:
    /// a count to assert is taken once the queue is idle (<see cref="TestServer.DeliveredAsync"/>).</summary>
    public static Task WaitForAsync(string path, int count, TimeSpan? timeout = null) =>
        Wait.UntilAsync(() => CountSeparators(path) >= count, timeout, $"{count} messages in {path}",
            () => $"{CountSeparators(path)} messages");
}
