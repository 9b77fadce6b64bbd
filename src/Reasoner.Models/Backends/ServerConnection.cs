using System.Net;
using System.Net.Http.Headers;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Reasoner.Models.Backends;

/// <summary>
/// Requests to a model server under the rules of <see cref="OpenAiCompletionsOptions"/>: a transient failure (connection
/// refused, timeout, 408, 429, 5xx) is retried with exponential backoff and jitter, honouring <c>Retry-After</c>; each
/// attempt has its own timeout; at most <see cref="OpenAiCompletionsOptions.MaxConcurrentRequests"/> requests are in
/// flight. A failure for good is a <see cref="LanguageModelServerException"/> naming the URL, the status and what the
/// server said. The completions client and the scoring client share it.
/// </summary>
internal sealed class ServerConnection : IDisposable
{
    static readonly MediaTypeHeaderValue Json = new("application/json");

    readonly OpenAiCompletionsOptions _options;
    readonly HttpClient _http;
    readonly SemaphoreSlim _inFlight;
    readonly ResiliencePipeline<HttpResponseMessage> _resilience;

    public ServerConnection(OpenAiCompletionsOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentRequests, 1, nameof(options.MaxConcurrentRequests));
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxRetries, nameof(options.MaxRetries));
        _options = options;
        var baseUrl = options.BaseUrl.ToString().TrimEnd('/');
        if (baseUrl.EndsWith("/v1", StringComparison.Ordinal)) baseUrl = baseUrl[..^3];
        BaseUrl = baseUrl;
        _inFlight = new SemaphoreSlim(options.MaxConcurrentRequests);
        // The resilience pipeline owns timing: one timeout per attempt, inside the retries.
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        if (options.ApiKey is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        _resilience = BuildResilience(options);
    }

    /// <summary>The server's address without a trailing <c>/</c> or <c>/v1</c>.</summary>
    public string BaseUrl { get; }

    public Uri Url(string path) => new(BaseUrl + path);

    /// <summary>The body of a successful answer to GET (no payload) or POST (a JSON payload), and how many attempts it took.</summary>
    public async Task<(string Text, int Attempts)> SendAsync(Uri url, byte[]? payload, CancellationToken cancel)
    {
        var method = payload is null ? "GET" : "POST";
        await _inFlight.WaitAsync(cancel);
        try
        {
            var attempts = 0;
            HttpResponseMessage response;
            try
            {
                response = await _resilience.ExecuteAsync(async token =>
                {
                    attempts++;
                    using var request = new HttpRequestMessage(payload is null ? HttpMethod.Get : HttpMethod.Post, url);
                    if (payload is not null)
                    {
                        request.Content = new ByteArrayContent(payload);
                        request.Content.Headers.ContentType = Json;
                    }
                    // Buffers the whole body, so that the attempt's timeout covers reading it.
                    return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
                }, cancel);
            }
            catch (TimeoutRejectedException e)
            {
                throw new LanguageModelServerException(
                    $"{method} {url}: no answer within {_options.Timeout.TotalSeconds:0.###} s ({Tries(attempts)})", url, null, null, attempts, e);
            }
            catch (HttpRequestException e) when (!cancel.IsCancellationRequested)
            {
                throw new LanguageModelServerException($"{method} {url} failed after {Tries(attempts)}: {e.Message}", url, null, null, attempts, e);
            }
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancel);
                if (!response.IsSuccessStatusCode)
                {
                    var status = (int)response.StatusCode;
                    var message = OpenAi.CompletionsReading.ServerMessage(text);
                    if (message.Length == 0) message = response.ReasonPhrase ?? "";
                    throw new LanguageModelServerException(
                        $"{method} {url} failed with {status} {response.ReasonPhrase} after {Tries(attempts)}: {message}", url, status, message, attempts);
                }
                return (text, attempts);
            }
        }
        finally
        {
            _inFlight.Release();
        }
    }

    static string Tries(int attempts) => attempts == 1 ? "1 attempt" : $"{attempts} attempts";

    static ResiliencePipeline<HttpResponseMessage> BuildResilience(OpenAiCompletionsOptions options)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .HandleResult(r => IsTransient(r.StatusCode)),
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, options.MaxRetryDelay)),
            });
        }
        return builder.AddTimeout(options.Timeout).Build();
    }

    static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>The server's <c>Retry-After</c>, capped; null leaves the delay to the backoff.</summary>
    static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeSpan max)
    {
        var header = response?.Headers.RetryAfter;
        var delay = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return delay is { } d ? TimeSpan.FromTicks(Math.Clamp(d.Ticks, 0, max.Ticks)) : null;
    }

    public void Dispose()
    {
        _http.Dispose();
        _inFlight.Dispose();
    }
}
