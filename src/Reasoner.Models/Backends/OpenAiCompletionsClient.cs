using System.Text.Json;
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
    readonly OpenAiCompletionsOptions _options;
    readonly ServerConnection _server;
    int _echoMaxTokens;

    public OpenAiCompletionsClient(OpenAiCompletionsOptions options)
    {
        _options = options;
        _server = new ServerConnection(options);
        CompletionsUrl = _server.Url("/v1/completions");
        ModelId = options.Model is null ? _server.BaseUrl : $"{options.Model}@{_server.BaseUrl}";
        _echoMaxTokens = options.EchoMaxTokens;
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
        var (text, attempts) = await _server.SendAsync(CompletionsUrl, payload, cancel);
        try
        {
            return (JsonSerializer.Deserialize(text, CompletionsJsonContext.Default.CompletionsResponseBody) ?? throw Malformed("null", attempts), attempts);
        }
        catch (JsonException e)
        {
            throw Malformed($"not a completions response ({e.Message})", attempts);
        }
    }

    LanguageModelServerException Malformed(string what, int attempts) =>
        new($"POST {CompletionsUrl}: unexpected answer: {what}", CompletionsUrl, 200, null, attempts);

    public void Dispose() => _server.Dispose();
}
