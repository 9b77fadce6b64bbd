using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Reasoner.Models.Backends;
using Reasoner.Models.Backends.OpenAi;

namespace Reasoner.Cli.Serving;

/// <summary>
/// <c>POST /v1/completions</c> over an <see cref="ILanguageModel"/>. Sampling maps to
/// <see cref="ILanguageModel.CompleteAsync"/> (one call for all <c>n</c>). <c>echo</c> returns the prompt's own
/// tokens and log-probs, from <c>ScoreAsync("", prompt)</c>: a client scores a continuation by sending
/// prompt+continuation and keeping the tokens past the prompt (by <c>text_offset</c>), as it would with vLLM.
/// Bad requests get 400 naming the field, backend failures 500, both as OpenAI-style error JSON.
/// </summary>
sealed class CompletionsEndpoint(ILanguageModel model, string servedModelName, ILogger log, int maxN = 64)
{
    static readonly JsonElement NoStopString = JsonElement.Parse("null");

    public async Task HandleAsync(HttpContext http)
    {
        if (await ApiErrors.ReadAsync(http, CompletionsJsonContext.Default.CompletionsRequestBody, body => ServedRequest.From(body, maxN, model as IContextWindow)) is not { } request) return;
        // A client that leaves (Kestrel aborts the request when its connection closes) stops its generation.
        var cancel = http.RequestAborted;

        CompletionsResponseBody response;
        try
        {
            response = await RespondAsync(request, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return; // The client has gone; nobody reads an answer.
        }
        catch (Exception e)
        {
            log.LogError(e, "backend {Model} failed a completions request", model.ModelId);
            await ApiErrors.WriteAsync(http, StatusCodes.Status500InternalServerError, "server_error", null, $"backend failed: {e.Message}");
            return;
        }
        await http.Response.WriteAsJsonAsync(response, CompletionsJsonContext.Default.CompletionsResponseBody, cancellationToken: cancel);
    }

    async Task<CompletionsResponseBody> RespondAsync(ServedRequest request, CancellationToken cancel)
    {
        var prompt = request.Completion.Prompt;
        var echoed = request.Echo ? (await model.ScoreAsync("", [prompt], cancel))[0] : null;
        var completions = request.Completion.MaxTokens > 0 ? await model.CompleteAsync(request.Completion, cancel) : null;
        var choices = new List<CompletionChoiceBody>();
        for (var i = 0; i < request.Completion.N; i++)
        {
            var completion = completions?[i];
            var logprobs = new LogProbsBuilder();
            if (echoed is not null) logprobs.Add(echoed.TokenTexts, echoed.TokenIds, echoed.TokenLogProbs);
            if (completion is not null) logprobs.Add(completion.TokenTexts, completion.TokenIds, completion.TokenLogProbs);
            choices.Add(new CompletionChoiceBody
            {
                Index = i,
                Text = (echoed is null ? "" : prompt) + completion?.Text,
                Logprobs = request.Logprobs ? logprobs.Build() : null,
                // Echo alone generates nothing, and says so as vLLM does: the zero-token limit was reached.
                FinishReason = completion?.Finish is FinishReason.Stop or FinishReason.EndOfSequence ? "stop" : "length",
                StopReason = StopReasonOf(completion?.Finish, request.Completion.Stop),
            });
        }
        var completionTokens = completions?.Sum(c => c.TokenLogProbs.Count) ?? 0;
        return new CompletionsResponseBody
        {
            Id = $"cmpl-{Guid.NewGuid():N}",
            Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Model = servedModelName,
            Choices = choices,
            Usage = new UsageBody
            {
                // Only known when the prompt was scored: ILanguageModel does not tokenize on its own.
                PromptTokens = echoed?.TokenLogProbs.Count,
                CompletionTokens = completionTokens,
                TotalTokens = echoed?.TokenLogProbs.Count + completionTokens,
            },
        };
    }

    /// <summary>
    /// vLLM's <c>stop_reason</c>: null for end of sequence, the stop string for a stop. ILanguageModel does not say
    /// which of several stop strings matched, so it is the first; clients tell the two kinds apart by null or not.
    /// </summary>
    static JsonElement StopReasonOf(FinishReason? finish, IReadOnlyList<string> stop) => finish == FinishReason.Stop
        ? JsonSerializer.SerializeToElement(stop.Count > 0 ? stop[0] : "", CompletionsJsonContext.Default.String)
        : NoStopString;

    /// <summary>
    /// The legacy logprobs object of one choice, from one or two runs of tokens (the echoed prompt, then the
    /// completion). Token texts give <c>tokens</c> and <c>text_offset</c>; a backend that knows only ids is
    /// served with vLLM's <c>token_id:N</c> spelling and no offsets.
    /// </summary>
    sealed class LogProbsBuilder
    {
        readonly List<string> _tokens = [];
        readonly List<double?> _logprobs = [];
        readonly List<int> _offsets = [];
        int _textLength;
        bool _offsetsKnown = true;

        public void Add(IReadOnlyList<string> texts, IReadOnlyList<int> ids, IReadOnlyList<double> logprobs)
        {
            var haveTexts = texts.Count == logprobs.Count;
            _offsetsKnown &= haveTexts;
            for (var i = 0; i < logprobs.Count; i++)
            {
                var token = haveTexts ? texts[i] : ids.Count == logprobs.Count ? TokenIdSpelling.Of(ids[i]) : "";
                _offsets.Add(_textLength);
                _textLength += token.Length;
                _tokens.Add(token);
                // NaN: a text's first token with nothing before it, which the API reports as null.
                _logprobs.Add(double.IsNaN(logprobs[i]) ? null : logprobs[i]);
            }
        }

        public CompletionLogProbsBody Build() => new()
        {
            Tokens = _tokens,
            TokenLogprobs = _logprobs,
            TextOffset = _offsetsKnown ? _offsets : null,
        };
    }
}

/// <summary>A request after validation: what to ask the model, and what to send back.</summary>
sealed record ServedRequest(CompletionRequest Completion, bool Echo, bool Logprobs)
{
    /// <param name="maxN">The server's limit on <c>n</c> (<c>--max-n</c>).</param>
    /// <param name="context">The model's context window, where the backend knows it: prompt plus max_tokens must fit.</param>
    public static ServedRequest From(CompletionsRequestBody body, int maxN = 64, IContextWindow? context = null)
    {
        var prompt = body.Prompt switch
        {
            null => throw new BadRequestException("prompt", "field 'prompt' is required"),
            [var single] => single,
            _ => throw new BadRequestException("prompt", $"field 'prompt' must be a string or a list of one string, not {body.Prompt.Count}"),
        };
        if (prompt.Length == 0) throw new BadRequestException("prompt", "field 'prompt' must not be empty");
        var echo = body.Echo ?? false;
        var n = body.N ?? 1;
        if (n < 1) throw new BadRequestException("n", $"field 'n' must be at least 1, not {n}");
        if (n > maxN) throw new BadRequestException("n", $"field 'n' is {n}, above this server's limit of {maxN} completions per request (serve-model --max-n)");
        // 16 is the API's default; 0 only makes sense with echo, which then only scores the prompt.
        var maxTokens = body.MaxTokens ?? 16;
        if (maxTokens < (echo ? 0 : 1)) throw new BadRequestException("max_tokens", $"field 'max_tokens' must be at least {(echo ? 0 : 1)}, not {maxTokens}");
        if (context is not null)
        {
            // As vLLM words it, so that clients written for vLLM read the prompt's length from it.
            var promptTokens = context.CountPromptTokens(prompt);
            if ((long)promptTokens + maxTokens > context.ContextLength)
                throw new BadRequestException(promptTokens > context.ContextLength ? "prompt" : "max_tokens",
                    $"This model's maximum context length is {context.ContextLength} tokens. However, you requested {(long)promptTokens + maxTokens} tokens " +
                    $"({promptTokens} in the prompt, {maxTokens} in the completion). Please reduce the length of the prompt or completion.");
        }
        var temperature = body.Temperature ?? 1.0;
        if (!(temperature >= 0)) throw new BadRequestException("temperature", $"field 'temperature' must be at least 0, not {temperature}");
        var topP = body.TopP ?? 1.0;
        if (!(topP > 0 && topP <= 1)) throw new BadRequestException("top_p", $"field 'top_p' must be in (0, 1], not {topP}");
        if (body.Logprobs < 0) throw new BadRequestException("logprobs", $"field 'logprobs' must be at least 0, not {body.Logprobs}");
        var stop = body.Stop ?? [];
        if (stop.Any(s => s.Length == 0)) throw new BadRequestException("stop", "field 'stop' must not hold an empty string");
        return new ServedRequest(new CompletionRequest(prompt, n, maxTokens)
        {
            Stop = stop,
            Temperature = temperature,
            TopP = topP,
            Seed = body.Seed,
        }, echo, body.Logprobs is not null);
    }
}

/// <summary>A request the server cannot serve as asked; <see cref="Field"/> names the field at fault.</summary>
sealed class BadRequestException(string? field, string message) : Exception(message)
{
    public string? Field { get; } = field;
}
