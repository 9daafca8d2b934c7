using System.Text;
using FastSpool.Bench.Delivery;

namespace FastSpool.Bench.Tests;

public sealed class DeliveredCounterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fastspool-bench-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static void Append(string path, string text) => File.AppendAllText(path, text, Encoding.ASCII);

    [Fact]
    public void MboxCountsOnlyFromLinesAppendedAfterTheBaseline()
    {
        string mbox = Path.Combine(_directory, "alice");
        Append(mbox, "From old@example.org  Tue Nov 24 17:19:20 2026\nSubject: old\n\nbody\n\n");
        using var counter = new MboxCounter(mbox);
        Assert.Equal(0, counter.Count());
        Append(mbox, "From a@example.org  Tue Nov 24 17:19:21 2026\nSubject: one\n\n>From quoted\nxFrom not\n\n");
        Assert.Equal(1, counter.Count());
        Append(mbox, "From b@example.org  Tue Nov 24 17:19:22 2026\n\nFrom\n\nFrom c@example.org  x\n\n");
        Assert.Equal(3, counter.Count());
        Assert.Equal(3, counter.Count());
    }

    [Fact]
    public void MboxWaitsForANulTailToBeFilledIn()
    {
        // A memory-mapped append: the file grows first (NULs), then the message is copied in.
        string mbox = Path.Combine(_directory, "carol");
        using var counter = new MboxCounter(mbox);
        byte[] message = Encoding.ASCII.GetBytes("From a@example.org  Tue Nov 24 17:19:21 2026\nSubject: one\n\nbody\n\n");
        File.WriteAllBytes(mbox, new byte[message.Length]);
        Assert.Equal(0, counter.Count());
        using (var stream = new FileStream(mbox, FileMode.Open, FileAccess.Write))
            stream.Write(message);
        Assert.Equal(1, counter.Count());
    }

    [Fact]
    public void MboxCountsALineSplitAcrossAppends()
    {
        string mbox = Path.Combine(_directory, "bob");
        using var counter = new MboxCounter(mbox);
        Assert.Equal(0, counter.Count());
        Append(mbox, "Fr");
        Assert.Equal(0, counter.Count());
        Append(mbox, "om ");
        Assert.Equal(1, counter.Count());
        Append(mbox, "a@b\nbody\nF");
        Assert.Equal(1, counter.Count());
        Append(mbox, "rox\nFrom");
        Assert.Equal(1, counter.Count());
        Append(mbox, " c@d\n");
        Assert.Equal(2, counter.Count());
    }

    [Fact]
    public void MboxBaselineInTheMiddleOfALineDoesNotCountItsRest()
    {
        string mbox = Path.Combine(_directory, "carol");
        Append(mbox, "From a@b\nhalf a line ");
        using var counter = new MboxCounter(mbox);
        Append(mbox, "From still the same line\nFrom x@y\n");
        Assert.Equal(1, counter.Count());
    }

    [Fact]
    public void MboxReadsMoreThanOneBufferOfNewText()
    {
        string mbox = Path.Combine(_directory, "dave");
        using var counter = new MboxCounter(mbox);
        var text = new StringBuilder();
        for (int i = 0; i < 2000; i++)
            text.Append("From x@y  Tue Nov 24 17:19:21 2026\n").Append('b', 100).Append("\n\n");
        Append(mbox, text.ToString());
        Assert.Equal(2000, counter.Count());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void TheScannerGivesTheSameCountForEveryWayOfSplittingTheText(int piece)
    {
        byte[] text = "From a\nFrom b\n>From c\nFromd\n\nFrom e\nx From f\nFrom "u8.ToArray();
        var scanner = new FromLineScanner(atLineStart: true);
        for (int at = 0; at < text.Length; at += piece)
            scanner.Scan(text.AsSpan(at, Math.Min(piece, text.Length - at)));
        Assert.Equal(4, scanner.Count);
    }

    [Fact]
    public void ADirectoryCountsNewFilesBelowItButNotInTmp()
    {
        string maildir = Path.Combine(_directory, "Maildir");
        Directory.CreateDirectory(Path.Combine(maildir, "new"));
        Directory.CreateDirectory(Path.Combine(maildir, "cur"));
        Directory.CreateDirectory(Path.Combine(maildir, "tmp"));
        File.WriteAllText(Path.Combine(maildir, "cur", "old"), "x");
        using IDeliveredCounter counter = DeliveredCounter.Open(maildir);
        Assert.IsType<DirectoryCounter>(counter);
        File.WriteAllText(Path.Combine(maildir, "tmp", "writing"), "x");
        Assert.Equal(0, counter.Count());
        File.WriteAllText(Path.Combine(maildir, "new", "1"), "x");
        File.WriteAllText(Path.Combine(maildir, "new", "2"), "x");
        Assert.Equal(2, counter.Count());
    }
}
