using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Polly.Timeout;
using Reasoner.Models.Backends;

namespace Reasoner.Tests.Http;

/// <summary>The client against loopback servers that fail, stall, throttle or are not there; delays shortened through options.</summary>
public sealed class ResilienceTests
{
    static OpenAiCompletionsClient ClientFor(Uri baseUrl, int maxRetries = 2, TimeSpan? timeout = null, int maxConcurrent = 8, string? apiKey = null) => new(new OpenAiCompletionsOptions
    {
        BaseUrl = baseUrl,
        Model = "m",
        ApiKey = apiKey,
        Timeout = timeout ?? TimeSpan.FromSeconds(5),
        MaxRetries = maxRetries,
        RetryDelay = TimeSpan.FromMilliseconds(10),
        MaxRetryDelay = TimeSpan.FromSeconds(2),
        MaxConcurrentRequests = maxConcurrent,
    });

    [Fact]
    public async Task TwoUnavailableAnswersAreRetriedAndTheThirdIsUsed()
    {
        await using var server = await ScriptedHttpServer.StartAsync((http, call) =>
            call <= 2 ? ScriptedHttpServer.ErrorAsync(http, 503, "loading model") : ScriptedHttpServer.OkAsync(http));
        using var client = ClientFor(server.BaseUrl);

        var completion = Assert.Single(await client.CompleteAsync(new CompletionRequest("Q")));

        Assert.Equal("ok", completion.Text);
        Assert.Equal(3, server.Calls);
    }

    [Fact]
    public async Task TooManyRequestsWaitsAsLongAsRetryAfterSays()
    {
        await using var server = await ScriptedHttpServer.StartAsync((http, call) =>
        {
            if (call > 1) return ScriptedHttpServer.OkAsync(http);
            http.Response.Headers.RetryAfter = "1";
            return ScriptedHttpServer.ErrorAsync(http, 429, "slow down");
        });
        using var client = ClientFor(server.BaseUrl);
        var clock = Stopwatch.StartNew();

        await client.CompleteAsync(new CompletionRequest("Q"));

        Assert.Equal(2, server.Calls);
        // At least the second the server asked for (the backoff alone is 10 ms); a loaded machine may take longer.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {clock.Elapsed}");
    }

    [Fact]
    public async Task AServerThatNeverAnswersTimesOutAfterEachAttempt()
    {
        await using var server = await ScriptedHttpServer.StartAsync((http, _) => Task.Delay(Timeout.Infinite, http.RequestAborted));
        using var client = ClientFor(server.BaseUrl, maxRetries: 1, timeout: TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<LanguageModelServerException>(() => client.CompleteAsync(new CompletionRequest("Q")));

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.6), $"two 0.3 s attempts ended after {clock.Elapsed}");
        Assert.IsType<TimeoutRejectedException>(e.InnerException);
        Assert.Null(e.StatusCode);
        Assert.Equal(2, e.Attempts);
        Assert.Contains($"POST {client.CompletionsUrl}: no answer within 0.3 s (2 attempts)", e.Message);
    }

    [Fact]
    public async Task TheCallersCancellationEndsTheRequestWithoutRetries()
    {
        await using var server = await ScriptedHttpServer.StartAsync((http, _) => Task.Delay(Timeout.Infinite, http.RequestAborted));
        using var client = ClientFor(server.BaseUrl, maxRetries: 3);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.CompleteAsync(new CompletionRequest("Q"), cancel.Token));

        Assert.Equal(1, server.Calls);
    }

    [Fact]
    public async Task ARefusedConnectionIsRetriedThenReportedWithTheUrl()
    {
        var url = new Uri($"http://127.0.0.1:{ScriptedHttpServer.FreePort()}");
        using var client = ClientFor(url, maxRetries: 2);

        var e = await Assert.ThrowsAsync<LanguageModelServerException>(() => client.CompleteAsync(new CompletionRequest("Q")));

        Assert.Equal(3, e.Attempts);
        Assert.Null(e.StatusCode);
        Assert.IsType<HttpRequestException>(e.InnerException);
        Assert.StartsWith($"POST {url}v1/completions failed after 3 attempts: ", e.Message);
    }

    [Fact]
    public async Task NoMoreThanMaxConcurrentRequestsAreInFlight()
    {
        var inFlight = 0;
        var most = 0;
        // The first request is held until a second is in flight, so the two overlap however slowly they arrive.
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await ScriptedHttpServer.StartAsync(async (http, _) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref most, now);
            if (now >= 2) second.TrySetResult();
            await second.Task;
            Interlocked.Decrement(ref inFlight);
            await ScriptedHttpServer.OkAsync(http);
        });
        using var client = ClientFor(server.BaseUrl, maxConcurrent: 2);

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => client.CompleteAsync(new CompletionRequest("Q"))));

        Assert.Equal(6, server.Calls);
        Assert.Equal(2, most);
    }

    [Fact]
    public async Task TheApiKeyIsSentAsABearerToken()
    {
        var authorization = "";
        await using var server = await ScriptedHttpServer.StartAsync((http, _) =>
        {
            authorization = http.Request.Headers.Authorization.ToString();
            return ScriptedHttpServer.OkAsync(http);
        });
        using var client = ClientFor(server.BaseUrl, apiKey: "sk-test");

        await client.CompleteAsync(new CompletionRequest("Q"));

        Assert.Equal("Bearer sk-test", authorization);
    }

    [Fact]
    public async Task AnAnswerThatIsNotACompletionIsAClearError()
    {
        await using var server = await ScriptedHttpServer.StartAsync((http, _) => http.Response.WriteAsync("<html>proxy page</html>"));
        using var client = ClientFor(server.BaseUrl);

        var e = await Assert.ThrowsAsync<LanguageModelServerException>(() => client.CompleteAsync(new CompletionRequest("Q")));

        Assert.Contains("unexpected answer: not a completions response", e.Message);
    }

    static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
            if (Interlocked.CompareExchange(ref target, value, seen) == seen) return;
    }
}
