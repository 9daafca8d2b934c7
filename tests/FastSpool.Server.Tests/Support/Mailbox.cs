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

    public static async Task<List<(string Marker, MimeMessage Message)>> WaitForAsync(string path, int count, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (CountSeparators(path) < count)
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{path}: {CountSeparators(path)} of {count} messages delivered before the deadline");
            await Task.Delay(20);
        }
        return Read(path);
    }
}
