using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using FastSpool.Posix;
using FastSpool.Server.Tests.Support;

namespace FastSpool.Server.Tests.Admin;

/// <summary>The admin endpoint on its Unix socket, against a queue manager stand-in; the answers are read as plain
/// JSON documents, not through the CLI's types.</summary>
public sealed class AdminEndpointTests : IAsyncLifetime
{
    private readonly FakeQueueControl _control = QueueSamples.Control();
    private AdminHost _host = null!;

    public async Task InitializeAsync() => _host = await AdminHost.StartAsync(_control);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string path)
    {
        using HttpResponseMessage response = await _host.Client.GetAsync(path);
        return (response.StatusCode, await ReadJsonAsync(response));
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string? body)
    {
        using var content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _host.Client.PostAsync(path, content);
        return (response.StatusCode, await ReadJsonAsync(response));
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        using JsonDocument document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    [Fact]
    public async Task ListAnswersEveryMessageWithItsRecipients()
    {
        (HttpStatusCode status, JsonElement body) = await GetAsync("/queue");
        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement[] messages = [.. body.GetProperty("messages").EnumerateArray()];
        Assert.Equal([QueueSamples.DeferredId, QueueSamples.HeldId, QueueSamples.BounceId], messages.Select(m => m.GetProperty("id").GetString()));
        JsonElement first = messages[0];
        Assert.Equal("bob@example.org", first.GetProperty("sender").GetString());
        Assert.Equal(1234, first.GetProperty("size").GetInt64());
        Assert.Equal("2026-11-29T21:32:36+00:00", first.GetProperty("arrival").GetString());
        JsonElement carol = first.GetProperty("recipients")[0];
        Assert.Equal("carol@localhost", carol.GetProperty("address").GetString());
        Assert.Equal("deferred", carol.GetProperty("status").GetString());
        Assert.Equal(2, carol.GetProperty("attempts").GetInt32());
        Assert.Equal(451, carol.GetProperty("lastReply").GetProperty("code").GetInt32());
        Assert.Equal("mailbox /var/mail/carol is locked", carol.GetProperty("lastReply").GetProperty("text").GetString());
        Assert.True(messages[1].GetProperty("held").GetBoolean());
        Assert.True(messages[2].GetProperty("active").GetBoolean());
        Assert.Equal("", messages[2].GetProperty("sender").GetString());
    }

    [Fact]
    public async Task ShowAnswersTheMessageWithItsHistoryAndHeaders()
    {
        (HttpStatusCode status, JsonElement body) = await GetAsync("/queue/" + QueueSamples.DeferredId);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(QueueSamples.DeferredHeaders, body.GetProperty("headers").GetString());
        JsonElement message = body.GetProperty("message");
        Assert.Equal("env-1", message.GetProperty("envelopeId").GetString());
        JsonElement[] history = [.. message.GetProperty("recipients")[0].GetProperty("history").EnumerateArray()];
        Assert.Equal(["pending", "deferred", "deferred"], history.Select(e => e.GetProperty("status").GetString()));
        Assert.False(history[0].TryGetProperty("reply", out _));
        Assert.Equal("4.2.0", history[1].GetProperty("reply").GetProperty("enhancedStatus").GetString());
    }

    [Fact]
    public async Task ShowTakesIdsInAnyCaseAndWithoutLeadingZeros()
    {
        (HttpStatusCode status, JsonElement body) = await GetAsync("/queue/" + QueueSamples.DeferredId.TrimStart('0').ToLowerInvariant());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(QueueSamples.DeferredId, body.GetProperty("message").GetProperty("id").GetString());
    }

    [Fact]
    public async Task ShowOfAnUnknownIdIsNotFoundAndNamesIt()
    {
        (HttpStatusCode status, JsonElement body) = await GetAsync("/queue/" + QueueSamples.UnknownId);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(QueueSamples.UnknownId, body.GetProperty("id").GetString());
        Assert.Equal($"no message {QueueSamples.UnknownId} in the queue", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("XYZ")]
    [InlineData("12345678901234567")]
    [InlineData("-1")]
    public async Task ShowOfSomethingThatIsNotAnIdIsABadRequest(string id)
    {
        (HttpStatusCode status, JsonElement body) = await GetAsync("/queue/" + id);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal($"'{id}' is not a queue id (1-16 hex digits)", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("flush")]
    [InlineData("hold")]
    [InlineData("release")]
    [InlineData("requeue")]
    [InlineData("delete")]
    public async Task EachVerbActsOnTheKnownIdsAndListsTheUnknownOnes(string verb)
    {
        (HttpStatusCode status, JsonElement body) = await PostAsync("/queue/" + verb,
            $$"""{"ids":["{{QueueSamples.HeldId.ToLowerInvariant()}}","{{QueueSamples.UnknownId}}","{{QueueSamples.HeldId}}"]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([QueueSamples.HeldId], Strings(body.GetProperty("done")));
        Assert.Equal([QueueSamples.UnknownId], Strings(body.GetProperty("unknown")));
        ControlCall call = Assert.Single(_control.Calls);
        Assert.Equal(verb, call.Verb);
        Assert.Equal([QueueSamples.HeldId, QueueSamples.UnknownId], call.Ids); // canonical and each once
        Assert.False(call.Bounce);
    }

    [Fact]
    public async Task TheAskerIsTheUidTheKernelRecordedForTheConnection()
    {
        await PostAsync("/queue/hold", $$"""{"ids":["{{QueueSamples.DeferredId}}"]}""");
        uint uid = Libc.GetEffectiveUserId();
        string? name = Libc.UserNameOf(uid);
        Assert.Equal(name is null ? $"uid {uid}" : $"uid {uid} ({name})", Assert.Single(_control.Calls).Who);
        if (uid == 0)
            Assert.Equal("uid 0 (root)", _control.Calls[0].Who);
    }

    [Fact]
    public async Task DeleteWithBounceTellsTheQueueManager()
    {
        (HttpStatusCode status, _) = await PostAsync("/queue/delete", $$"""{"ids":["{{QueueSamples.DeferredId}}"],"bounce":true}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(Assert.Single(_control.Calls).Bounce);
        Assert.Null(_control.Find(QueueSamples.DeferredId));
    }

    [Fact]
    public async Task DeleteAllAndDeleteDeferredUseTheirScopes()
    {
        (_, JsonElement deferred) = await PostAsync("/queue/delete", """{"deferred":true}""");
        Assert.Equal([QueueSamples.DeferredId], Strings(deferred.GetProperty("done")));
        (_, JsonElement all) = await PostAsync("/queue/delete", """{"all":true,"bounce":true}""");
        Assert.Equal([QueueSamples.HeldId, QueueSamples.BounceId], Strings(all.GetProperty("done")));
        Assert.Equal(["delete-deferred", "delete-all"], _control.Calls.Select(c => c.Verb));
        Assert.True(_control.Calls[1].Bounce);
        Assert.Empty(_control.List());
    }

    [Fact]
    public async Task FlushWithoutABodyFlushesEveryMessage()
    {
        (HttpStatusCode status, JsonElement body) = await PostAsync("/queue/flush", null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(Assert.Single(_control.Calls).Ids);
        Assert.Equal(3, body.GetProperty("done").GetArrayLength());
    }

    [Fact]
    public async Task HoldAllHoldsEveryMessageInTheQueue()
    {
        (_, JsonElement body) = await PostAsync("/queue/hold", """{"all":true}""");
        Assert.Equal(3, body.GetProperty("done").GetArrayLength());
        Assert.All(_control.List(), m => Assert.True(m.Held));
    }

    [Theory]
    [InlineData("{", "bad JSON in the request body")]
    [InlineData("[]", "bad JSON in the request body")]
    [InlineData("""{"ids":"6B05C71800001"}""", "bad JSON in the request body")]
    [InlineData("""{"id":["6B05C71800001"]}""", "bad JSON in the request body")]
    [InlineData("""{"ids":[],"all":"yes"}""", "bad JSON in the request body")]
    [InlineData("null", "the request body must be a JSON object")]
    [InlineData("""{"ids":["XYZ"]}""", "'XYZ' is not a queue id (1-16 hex digits)")]
    [InlineData("""{"ids":["12345678901234567"]}""", "'12345678901234567' is not a queue id (1-16 hex digits)")]
    [InlineData("""{"ids":[""]}""", "'' is not a queue id (1-16 hex digits)")]
    [InlineData("""{"ids":[null]}""", "'' is not a queue id (1-16 hex digits)")]
    [InlineData("""{"ids":["6B05C71800001"],"all":true}""", "give ids or all, not both")]
    [InlineData("""{"all":true,"deferred":true}""", "give all or deferred, not both")]
    [InlineData("""{}""", "no ids: give \"ids\", or \"all\": true for every message")]
    public async Task ABadRequestIsRefusedWithAClearMessageAndNeverReachesTheQueueManager(string body, string error)
    {
        (HttpStatusCode status, JsonElement answer) = await PostAsync("/queue/delete", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith(error, answer.GetProperty("error").GetString());
        Assert.Empty(_control.Calls);
    }

    [Theory]
    [InlineData("hold", """{"ids":["6B05C71800001"],"bounce":true}""", "bounce applies to delete only")]
    [InlineData("flush", """{"deferred":true}""", "deferred applies to delete only")]
    [InlineData("release", """{"ids":[]}""", "no ids")]
    public async Task OptionsOfOtherVerbsAreRefused(string verb, string body, string error)
    {
        (HttpStatusCode status, JsonElement answer) = await PostAsync("/queue/" + verb, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith(error, answer.GetProperty("error").GetString());
        Assert.Empty(_control.Calls);
    }

    [Fact]
    public async Task CountersAreTheQueueManagers()
    {
        (HttpStatusCode status, JsonElement body) = await GetAsync("/queue/counters");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, body.GetProperty("messages").GetInt32());
        Assert.Equal(1, body.GetProperty("heldMessages").GetInt32());
        Assert.Equal(1, body.GetProperty("deferredRecipients").GetInt32());
        Assert.Equal("2026-11-29T21:32:36+00:00", body.GetProperty("oldestArrival").GetString());
    }

    [Fact]
    public async Task AnUnknownRequestIsNotFoundInJson()
    {
        (HttpStatusCode status, JsonElement body) = await PostAsync("/queue/frobnicate", "{}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("no such request: POST /queue/frobnicate", body.GetProperty("error").GetString());
    }

    [Fact]
    public void TheSocketIsReadableAndWritableByItsOwnerOnly()
    {
        Assert.Equal(0, Libc.LStat(_host.SocketPath, out UnixFileStatus status));
        Assert.Equal(UnixFileType.Socket, status.Type);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, status.Mode);
        Assert.Equal(Libc.GetEffectiveUserId(), status.OwnerId);
        Assert.Equal(["control.sock"], Directory.GetFileSystemEntries(_host.DataDirectory).Select(Path.GetFileName));
    }

    [Fact]
    public async Task StoppingRemovesTheSocket()
    {
        await _host.StopAsync();
        Assert.Equal(Errno.ENOENT, Libc.LStat(_host.SocketPath, out _));
    }
}
