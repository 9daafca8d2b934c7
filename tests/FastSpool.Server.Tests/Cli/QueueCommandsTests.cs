using System.Net.Sockets;
using FastSpool.Cli;
using FastSpool.Posix;
using FastSpool.Server.Admin;
using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests.Cli;

/// <summary>The queue verbs end to end: the command line in this process, over the control socket, to the admin
/// endpoint with a queue manager stand-in.</summary>
public sealed class QueueCommandsTests : IAsyncLifetime
{
    private readonly FakeQueueControl _control = QueueSamples.Control();
    private AdminHost _host = null!;

    public async Task InitializeAsync() => _host = await AdminHost.StartAsync(_control);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private CliResult Run(params string[] args) => CliRunner.Run([.. args, "--data", _host.DataDirectory]);

    [Fact]
    public void MailqPrintsTheQueueAsTheServerReportsIt()
    {
        CliResult result = Run("mailq");
        Assert.Equal(0, result.Code);
        Assert.Equal("", result.Error);
        Assert.StartsWith(MailqFormatter.Header + "\n6B05C71800001 ", result.Out);
        Assert.Contains("\n6B05C71800002! ", result.Out);
        Assert.Equal(MailqFormatter.Text(_control.List(), TimeZoneInfo.Local), result.Out);
    }

    [Fact]
    public void MailqJsonPrintsOneLinePerMessage()
    {
        CliResult result = Run("mailq", "--json");
        Assert.Equal(0, result.Code);
        Assert.Equal(MailqFormatter.JsonLines(_control.List()), result.Out);
        Assert.Equal(3, result.OutLines.Length);
    }

    [Fact]
    public void MailqOfAnEmptyQueueSaysSo()
    {
        Assert.Equal(0, Run("delete", "--all").Code);
        Assert.Equal("Mail queue is empty\n", Run("mailq").Out);
    }

    [Fact]
    public void HoldAndReleasePrintALinePerMessageAndTellTheServerWhoAsked()
    {
        CliResult hold = Run("hold", QueueSamples.DeferredId.ToLowerInvariant(), QueueSamples.BounceId);
        Assert.Equal(0, hold.Code);
        Assert.Equal($"{QueueSamples.DeferredId}: placed on hold\n{QueueSamples.BounceId}: placed on hold\n", hold.Out);
        Assert.True(_control.Find(QueueSamples.DeferredId)!.Held);
        Assert.StartsWith($"uid {Libc.GetEffectiveUserId()}", _control.Calls[0].Who);

        CliResult release = Run("release", QueueSamples.DeferredId);
        Assert.Equal($"{QueueSamples.DeferredId}: released from hold\n", release.Out);
        Assert.False(_control.Find(QueueSamples.DeferredId)!.Held);
        Assert.Equal($"{QueueSamples.HeldId}: requeued\n", Run("requeue", QueueSamples.HeldId).Out);
        Assert.Equal(["hold", "release", "requeue"], _control.Calls.Select(c => c.Verb));
    }

    [Fact]
    public void HoldReleaseAndRequeueTakeAllInsteadOfIds()
    {
        CliResult hold = Run("hold", "--all");
        Assert.Equal(0, hold.Code);
        Assert.Equal(3, hold.OutLines.Length);
        Assert.All(hold.OutLines, line => Assert.EndsWith(": placed on hold", line));
        Assert.All(_control.List(), m => Assert.True(m.Held));
        Assert.Equal(3, Run("release", "--all").OutLines.Length);
        Assert.All(_control.List(), m => Assert.False(m.Held));

        foreach (string[] wrong in (string[][])[["hold"], ["requeue", QueueSamples.DeferredId, "--all"]])
        {
            CliResult result = Run(wrong);
            Assert.Equal(64, result.Code);
            Assert.Contains($"{wrong[0]}: give IDs or --all (one of them)", result.Error);
        }
        Assert.Equal(["hold", "release"], _control.Calls.Select(c => c.Verb));
    }

    [Fact]
    public void AUserWhoMayNotUseTheControlSocketIsToldSo()
    {
        Assert.Equal(0u, Libc.GetEffectiveUserId()); // the suite runs as root (README), so that it can be someone else here
        string dll = Path.Combine(AppContext.BaseDirectory, "fastspool.dll");
        (int code, string output) = Tool.Run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", dll, "mailq", "--data", _host.DataDirectory);
        Assert.True(code == 77, $"exit {code}: {output}");
        Assert.Equal($"fastspool: permission denied on {_host.SocketPath} (the queue is for root and the server's user)\n", output);
    }

    [Fact]
    public void AnUnknownIdIsNamedOnItsOwnLineAndTheExitCodeSaysSo()
    {
        CliResult result = Run("hold", QueueSamples.DeferredId, QueueSamples.UnknownId);
        Assert.Equal(66, result.Code);
        Assert.Equal($"{QueueSamples.DeferredId}: placed on hold\n", result.Out);
        Assert.Equal($"fastspool: {QueueSamples.UnknownId}: no such message in the queue\n", result.Error);
    }

    [Fact]
    public void FlushWithoutIdsFlushesEveryMessage()
    {
        CliResult result = Run("flush");
        Assert.Equal(0, result.Code);
        Assert.Equal(3, result.OutLines.Length);
        Assert.All(result.OutLines, line => Assert.EndsWith(": flushed", line));
        Assert.Empty(Assert.Single(_control.Calls).Ids);
    }

    [Fact]
    public void DeleteTakesIdsOrAllOrAllDeferredAndCanNotifyTheSenders()
    {
        CliResult deferred = Run("delete", "--all-deferred", "--bounce");
        Assert.Equal(0, deferred.Code);
        Assert.Equal($"{QueueSamples.DeferredId}: deleted, sender notified\n", deferred.Out);
        Assert.Equal($"{QueueSamples.HeldId}: deleted\n", Run("delete", QueueSamples.HeldId).Out);
        Assert.Equal($"{QueueSamples.BounceId}: deleted\n", Run("delete", "--all").Out);
        Assert.Equal(["delete-deferred", "delete", "delete-all"], _control.Calls.Select(c => c.Verb));
        Assert.Equal([true, false, false], _control.Calls.Select(c => c.Bounce));
    }

    [Fact]
    public void QueueShowPrintsTheMessageTheServerReports()
    {
        CliResult result = Run("queue", "show", QueueSamples.DeferredId);
        Assert.Equal(0, result.Code);
        Assert.Equal(MessageFormatter.Text(new MessageDetails(_control.Find(QueueSamples.DeferredId)!, QueueSamples.DeferredHeaders), TimeZoneInfo.Local), result.Out);
    }

    [Fact]
    public void QueueShowOfAnUnknownIdSaysSoInOneLine()
    {
        CliResult result = Run("queue", "show", QueueSamples.UnknownId);
        Assert.Equal(66, result.Code);
        Assert.Equal("", result.Out);
        Assert.Equal($"fastspool: no message {QueueSamples.UnknownId} in the queue\n", result.Error);
    }

    [Fact]
    public void SettingsAfterTheVerbChooseTheServer()
    {
        foreach (string[] args in (string[][])[["mailq", "--DataDirectory=" + _host.DataDirectory], ["mailq", "--data=" + _host.DataDirectory]])
        {
            CliResult result = CliRunner.Run(args);
            Assert.Equal(0, result.Code);
            Assert.StartsWith(MailqFormatter.Header, result.Out);
        }
    }

    [Fact]
    public async Task WithoutAQueueManagerTheVerbsSaySoInOneLine()
    {
        await using AdminHost host = await AdminHost.StartAsync(control: null);
        CliResult result = CliRunner.Run("mailq", "--data", host.DataDirectory);
        Assert.Equal(69, result.Code);
        Assert.Equal("fastspool: queue manager not available\n", result.Error);
    }

    [Theory]
    [InlineData("mailq")]
    [InlineData("flush")]
    [InlineData("hold", QueueSamples.DeferredId)]
    [InlineData("delete", "--all")]
    [InlineData("queue", "show", QueueSamples.DeferredId)]
    public async Task WhenTheServerIsNotRunningTheVerbsSaySoInOneLine(params string[] args)
    {
        await _host.StopAsync();
        CliResult result = Run(args);
        Assert.Equal(69, result.Code);
        Assert.Equal("", result.Out);
        Assert.Equal($"fastspool: the server is not running (no control socket at {_host.SocketPath})\n", result.Error);
    }

    [Fact]
    public async Task ASocketLeftByAKilledServerMeansItIsNotRunning()
    {
        await _host.StopAsync();
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(_host.SocketPath + ".old"));
            Assert.Equal(0, Libc.Link(_host.SocketPath + ".old", _host.SocketPath));
        }
        CliResult result = Run("mailq");
        Assert.Equal(69, result.Code);
        Assert.Equal($"fastspool: the server is not running (nothing answers on {_host.SocketPath})\n", result.Error);
    }
}
