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
    volatile bool _contextKnown;
    int? _context;

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
        // A token limit past the model's context is refused (vLLM, serve-model): ask for what fits, as an in-process engine would stop there.
        var maxTokens = await ContextLengthAsync(cancel) is { } context ? Math.Min(request.MaxTokens, context) : request.MaxTokens;
        (CompletionsResponseBody Body, int Attempts) answer;
        try
        {
            answer = await PostAsync(CompletionBody(request, maxTokens), cancel);
        }
        catch (LanguageModelServerException e) when (e.StatusCode == 400 && CompletionsReading.ContextOverflow(e.ServerMessage) is var (window, promptTokens) && window - promptTokens is > 0 and var room && room < maxTokens)
        {
            answer = await PostAsync(CompletionBody(request, room), cancel);
        }
        var (response, attempts) = answer;
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

    /// <summary>The server's context window from <c>GET /v1/models</c> (<c>max_model_len</c>, as vLLM and serve-model report it), asked once; null when it does not say.</summary>
    async Task<int?> ContextLengthAsync(CancellationToken cancel)
    {
        if (_contextKnown) return _context;
        try
        {
            var (text, _) = await _server.SendAsync(_server.Url("/v1/models"), null, cancel);
            var models = JsonSerializer.Deserialize(text, CompletionsJsonContext.Default.ModelListBody);
            var cards = models?.Data ?? [];
            var card = cards.FirstOrDefault(m => _options.Model is null || m.Id == _options.Model) ?? cards.FirstOrDefault();
            _context = card?.MaxModelLen;
        }
        catch (Exception e) when (e is LanguageModelServerException or JsonException)
        {
            _context = null; // A server without /v1/models (or an odd one) is used as it is.
        }
        _contextKnown = true;
        return _context;
    }

    CompletionsRequestBody CompletionBody(CompletionRequest request, int maxTokens) => new()
    {
        Model = _options.Model,
        Prompt = [request.Prompt],
        N = request.N,
        MaxTokens = maxTokens,
        Stop = request.Stop.Count > 0 ? request.Stop : null,
        Temperature = request.Temperature,
        TopP = request.TopP,
        Seed = request.Seed,
        Logprobs = 1,
        ReturnTokensAsTokenIds = _options.ReturnTokenIds ? true : null,
    };

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
