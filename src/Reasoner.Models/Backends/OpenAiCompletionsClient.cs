using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using Reasoner.Models.Backends.OpenAi;

namespace Reasoner.Models.Backends;

/// <summary>
/// A language model behind an OpenAI-compatible <c>POST /v1/completions</c> (vLLM, SGLang, llama.cpp's server,
/// Reasoner's <c>serve-model</c>). Sampling is one request with <c>n</c>, so the server shares the prompt's
/// prefix among siblings. Scoring sends prompt+continuation with <c>echo</c> and <c>logprobs</c>, and keeps the
/// log-probs of the tokens that cover the continuation. Transient failures are retried with exponential backoff
/// and jitter; at most <see cref="OpenAiCompletionsOptions.MaxConcurrentRequests"/> requests are in flight.
/// </summary>
public sealed class OpenAiCompletionsClient : ILanguageModel
{
    static readonly MediaTypeHeaderValue Json = new("application/json");

    readonly OpenAiCompletionsOptions _options;
    readonly HttpClient _http;
    readonly SemaphoreSlim _inFlight;
    readonly ResiliencePipeline<HttpResponseMessage> _resilience;
    int _echoMaxTokens;

    public OpenAiCompletionsClient(OpenAiCompletionsOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentRequests, 1, nameof(options.MaxConcurrentRequests));
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxRetries, nameof(options.MaxRetries));
        _options = options;
        var baseUrl = options.BaseUrl.ToString().TrimEnd('/');
        if (baseUrl.EndsWith("/v1", StringComparison.Ordinal)) baseUrl = baseUrl[..^3];
        CompletionsUrl = new Uri(baseUrl + "/v1/completions");
        ModelId = options.Model is null ? baseUrl : $"{options.Model}@{baseUrl}";
        _echoMaxTokens = options.EchoMaxTokens;
        _inFlight = new SemaphoreSlim(options.MaxConcurrentRequests);
        // The resilience pipeline owns timing: one timeout per attempt, inside the retries.
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        if (options.ApiKey is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        _resilience = BuildResilience(options);
    }

    /// <summary><c>model@baseUrl</c>, or the base URL alone when no model name is set.</summary>
    public string ModelId { get; }

    public Uri CompletionsUrl { get; }

    public async Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default)
    {
        var (response, attempts) = await PostAsync(new CompletionsRequestBody
        {
            Model = _options.Model,
            Prompt = [request.Prompt],
            N = request.N,
            MaxTokens = request.MaxTokens,
            Stop = request.Stop.Count > 0 ? request.Stop : null,
            Temperature = request.Temperature,
            TopP = request.TopP,
            Seed = request.Seed,
            Logprobs = 1,
            ReturnTokensAsTokenIds = _options.ReturnTokenIds ? true : null,
        }, cancel);
        if (response.Choices.Count != request.N) throw Malformed($"{response.Choices.Count} choices for n={request.N}", attempts);
        return [.. response.Choices.OrderBy(c => c.Index).Select(choice =>
        {
            var tokens = TokenRun.Of(choice.Logprobs);
            return new Completion(choice.Text, tokens.Ids, tokens.LogProbValues, CompletionsReading.Finish(choice, tokens, request.Stop.Count > 0))
            {
                TokenTexts = tokens.Texts,
            };
        })];
    }

    public async Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default)
    {
        // One echo request per continuation; the server's prefix cache shares the prompt among them.
        return await Task.WhenAll(continuations.Select(c => ScoreOneAsync(prompt, c, cancel)));
    }

    async Task<ScoredContinuation> ScoreOneAsync(string prompt, string continuation, CancellationToken cancel)
    {
        var whole = prompt + continuation;
        (CompletionsResponseBody Body, int Attempts) answer;
        var maxTokens = Volatile.Read(ref _echoMaxTokens);
        try
        {
            answer = await PostAsync(EchoRequest(whole, maxTokens), cancel);
        }
        catch (LanguageModelServerException e) when (maxTokens == 0 && e.StatusCode == 400 && e.ServerMessage?.Contains("max_tokens") == true)
        {
            Volatile.Write(ref _echoMaxTokens, 1);
            answer = await PostAsync(EchoRequest(whole, 1), cancel);
        }
        var (response, attempts) = answer;
        if (response.Choices.Count != 1) throw Malformed($"{response.Choices.Count} choices for an echo request", attempts);
        TokenRun tokens;
        try
        {
            tokens = CompletionsReading.EchoedContinuation(TokenRun.Of(response.Choices[0].Logprobs), response.Usage?.PromptTokens, whole, continuation.Length);
        }
        catch (InvalidDataException e)
        {
            throw Malformed(e.Message, attempts);
        }
        return new ScoredContinuation(continuation, tokens.Ids, tokens.LogProbValues) { TokenTexts = tokens.Texts };
    }

    CompletionsRequestBody EchoRequest(string whole, int maxTokens) => new()
    {
        Model = _options.Model,
        Prompt = [whole],
        N = 1,
        MaxTokens = maxTokens,
        Temperature = 0,
        Logprobs = 1,
        Echo = true,
    };

    async Task<(CompletionsResponseBody Body, int Attempts)> PostAsync(CompletionsRequestBody body, CancellationToken cancel)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(body, CompletionsJsonContext.Default.CompletionsRequestBody);
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
                    using var request = new HttpRequestMessage(HttpMethod.Post, CompletionsUrl) { Content = new ByteArrayContent(payload) };
                    request.Content.Headers.ContentType = Json;
                    // Buffers the whole body, so that the attempt's timeout covers reading it.
                    return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
                }, cancel);
            }
            catch (TimeoutRejectedException e)
            {
                throw new LanguageModelServerException(
                    $"POST {CompletionsUrl}: no answer within {_options.Timeout.TotalSeconds:0.###} s ({Tries(attempts)})", CompletionsUrl, null, null, attempts, e);
            }
            catch (HttpRequestException e) when (!cancel.IsCancellationRequested)
            {
                throw new LanguageModelServerException($"POST {CompletionsUrl} failed after {Tries(attempts)}: {e.Message}", CompletionsUrl, null, null, attempts, e);
            }
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancel);
                var status = (int)response.StatusCode;
                if (!response.IsSuccessStatusCode)
                {
                    var message = CompletionsReading.ServerMessage(text);
                    if (message.Length == 0) message = response.ReasonPhrase ?? "";
                    throw new LanguageModelServerException(
                        $"POST {CompletionsUrl} failed with {status} {response.ReasonPhrase} after {Tries(attempts)}: {message}", CompletionsUrl, status, message, attempts);
                }
                try
                {
                    return (JsonSerializer.Deserialize(text, CompletionsJsonContext.Default.CompletionsResponseBody) ?? throw Malformed("null", attempts), attempts);
                }
                catch (JsonException e)
                {
                    throw Malformed($"not a completions response ({e.Message})", attempts);
                }
            }
        }
        finally
        {
            _inFlight.Release();
        }
    }

    static string Tries(int attempts) => attempts == 1 ? "1 attempt" : $"{attempts} attempts";

    LanguageModelServerException Malformed(string what, int attempts) =>
        new($"POST {CompletionsUrl}: unexpected answer: {what}", CompletionsUrl, 200, null, attempts);

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
