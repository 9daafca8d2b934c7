using FastSpool.Cli.Sendmail;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Server.Tests.Cli;

/// <summary>sendmail's command line as programs write it: values glued or apart, combined flags, -o and -b
/// sub-letters, the ignored options, and a clear error for anything else.</summary>
public sealed class SendmailArgumentsTests
{
    private static SendmailArguments Parse(params string[] args)
    {
        SendmailArguments? parsed = SendmailArguments.Parse(args, SendmailMode.Deliver, out string? error);
        Assert.True(parsed is not null, error);
        return parsed;
    }

    private static string Error(params string[] args)
    {
        Assert.Null(SendmailArguments.Parse(args, SendmailMode.Deliver, out string? error));
        return error!;
    }

    [Fact]
    public void PlainRecipientsAreTheWordsAfterTheOptions()
    {
        SendmailArguments a = Parse("-i", "alice@localhost", "bob");
        Assert.Equal(SendmailMode.Deliver, a.Mode);
        Assert.True(a.IgnoreDots);
        Assert.Equal(["alice@localhost", "bob"], a.Recipients);
    }

    [Fact]
    public void TheFirstWordThatIsNoOptionEndsTheOptions()
    {
        SendmailArguments a = Parse("alice", "-t");
        Assert.False(a.RecipientsFromHeaders);
        Assert.Equal(["alice", "-t"], a.Recipients);
    }

    [Fact]
    public void DoubleDashEndsTheOptions()
    {
        // mutt writes: sendmail -oi -oem -- alice@localhost
        SendmailArguments a = Parse("-oi", "-oem", "--", "-alice@localhost");
        Assert.True(a.IgnoreDots);
        Assert.Equal(["-alice@localhost"], a.Recipients);
        Assert.Contains("-oem", a.Ignored);
    }

    [Theory]
    [InlineData("-fme@example.org")]
    [InlineData("-f", "me@example.org")]
    [InlineData("-rme@example.org")]
    [InlineData("-r", "me@example.org")]
    [InlineData("-f", "<me@example.org>")]
    public void TheSenderIsGivenGluedOrApart(params string[] args) => Assert.Equal("me@example.org", Parse(args).Sender);

    [Theory]
    [InlineData("-f", "me@example.org\nrecipient evil@x 0", "-f: ")]
    [InlineData("-f", "two words@x", "-f: ")]
    [InlineData("-F", "Me\nBcc: evil@x", "-F: a line break or NUL is not allowed")]
    [InlineData("-V", "\u00e9", "-V: the envelope id must be")]
    public void AValueThatWouldBreakALineOrTheEnvelopeIsRefused(string option, string value, string error)
    {
        Assert.Null(SendmailArguments.Parse([option, value, "a@x"], SendmailMode.Deliver, out string? message));
        Assert.StartsWith(error, message);
    }

    [Fact]
    public void TheNullSenderIsEmpty() => Assert.Equal("", Parse("-f", "<>").Sender);

    [Fact]
    public void FlagsCombine()
    {
        SendmailArguments a = Parse("-tiv");
        Assert.True(a.RecipientsFromHeaders);
        Assert.True(a.IgnoreDots);
        Assert.True(a.Verbose);
    }

    [Fact]
    public void AFlagFollowedByAValueLetterTakesTheRestOfTheWord()
    {
        SendmailArguments a = Parse("-tfme@x.org");
        Assert.True(a.RecipientsFromHeaders);
        Assert.Equal("me@x.org", a.Sender);
    }

    [Fact]
    public void FullNameAndDsnOptions()
    {
        SendmailArguments a = Parse("-F", "Me Myself", "-N", "success,delay", "-R", "hdrs", "-V", "env-1", "x@y");
        Assert.Equal("Me Myself", a.FullName);
        Assert.Equal(DsnNotify.Success | DsnNotify.Delay, a.Notify);
        Assert.Equal(DsnReturn.Headers, a.Return);
        Assert.Equal("env-1", a.EnvelopeId);
        Assert.Equal(DsnNotify.Never, Parse("-Nnever").Notify);
        Assert.Equal(DsnReturn.Full, Parse("-RFULL").Return);
    }

    [Theory]
    [InlineData("Deliver", "-bm")]
    [InlineData("ListQueue", "-bp")]
    [InlineData("Smtp", "-bs")]
    [InlineData("Verify", "-bv")]
    [InlineData("Newaliases", "-bi")]
    [InlineData("Flush", "-q")]
    [InlineData("Flush", "-q30m")]
    public void ModesAreChosenByB(string mode, string option) => Assert.Equal(Enum.Parse<SendmailMode>(mode), Parse(option).Mode);

    [Fact]
    public void QueueIdToFlush()
    {
        Assert.Equal("6B0CDEC500000", Parse("-qI6B0CDEC500000").FlushId);
        Assert.Equal("6B0CDEC500000", Parse("-qI", "6B0CDEC500000").FlushId);
        Assert.Null(Parse("-q").FlushId);
    }

    [Theory]
    [InlineData("-odb")]
    [InlineData("-odi")]
    [InlineData("-oem")]
    [InlineData("-oep")]
    [InlineData("-om")]
    [InlineData("-oQ/var/spool/mqueue")]
    [InlineData("-oQ", "/var/spool/mqueue")]
    [InlineData("-B", "8BITMIME")]
    [InlineData("-B8BITMIME")]
    [InlineData("-C", "/etc/mail/sendmail.cf")]
    [InlineData("-L", "tag")]
    [InlineData("-U")]
    public void ProgramsPassTheseAndTheyAreIgnored(params string[] args)
    {
        SendmailArguments a = Parse([.. args, "alice"]);
        Assert.Single(a.Ignored);
        Assert.Equal(["alice"], a.Recipients);
    }

    [Theory]
    [InlineData("unknown option -x", "-x")]
    [InlineData("unknown option -oX", "-oX")]
    [InlineData("-bd is not supported", "-bd")]
    [InlineData("-b needs a mode", "-b")]
    [InlineData("-f needs a value", "-f")]
    [InlineData("-F needs a value", "-F")]
    [InlineData("-N bogus: give never", "-N", "bogus")]
    [InlineData("-N never,success: give never", "-N", "never,success")]
    [InlineData("-R some: give full or hdrs", "-R", "some")]
    [InlineData("-qI needs a queue id", "-qI")]
    [InlineData("-qI needs a queue id (1-16 hex digits), not 'zz'", "-qIzz")]
    [InlineData("-qRsite is not supported", "-qRsite")]
    [InlineData("unknown option --verbose", "--verbose")]
    public void AnythingElseIsAnErrorThatNamesIt(string expected, params string[] args) => Assert.StartsWith(expected, Error(args));

    [Fact]
    public void FastSpoolSettingsAreKeptForTheConfiguration()
    {
        SendmailArguments a = Parse("--config", "/etc/x.json", "--data=/var/x", "--Smtp:Hostname=h", "-t");
        Assert.Equal(["--config=/etc/x.json", "--data=/var/x", "--Smtp:Hostname=h"], a.Settings);
        Assert.True(a.RecipientsFromHeaders);
    }

    [Fact]
    public void AnUnknownOptionExitsWithExUsage()
    {
        Support.CliResult result = Support.CliRunner.Run("sendmail", "-x", "alice");
        Assert.Equal(64, result.Code);
        Assert.Contains("sendmail: unknown option -x", result.Error);
        Assert.Contains("usage: sendmail", result.Error);
    }
}
