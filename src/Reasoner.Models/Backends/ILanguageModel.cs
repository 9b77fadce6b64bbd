namespace Reasoner.Models.Backends;

/// <summary>Why a completion stopped.</summary>
public enum FinishReason
{
    /// <summary>It produced one of the request's stop strings (the step delimiter); the stop string is not part of the text.</summary>
    Stop,
    /// <summary>It produced the end-of-sequence token.</summary>
    EndOfSequence,
    /// <summary>It reached the request's token limit.</summary>
    Length,
}

/// <summary>
/// Sample <see cref="N"/> continuations of <see cref="Prompt"/>. Same request and same <see cref="Seed"/>:
/// same completions, on every backend that honours seeds.
/// </summary>
public sealed record CompletionRequest(string Prompt, int N = 1, int MaxTokens = 128)
{
    /// <summary>Generation stops after any of these strings (the step delimiter, usually "\n").</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>0 = greedy.</summary>
    public double Temperature { get; init; } = 1.0;

    public double TopP { get; init; } = 1.0;

    public long? Seed { get; init; }
}

/// <summary>One sampled continuation with the log-probabilities the model gave its tokens.</summary>
public sealed record Completion(string Text, IReadOnlyList<int> TokenIds, IReadOnlyList<double> TokenLogProbs, FinishReason Finish)
{
    public int TokenCount => TokenIds.Count;

    /// <summary>
    /// Each token's text, when the backend knows it (an HTTP server may return only ids, or only strings);
    /// empty otherwise. Serving a model over the completions API needs them for <c>logprobs.tokens</c> and
    /// <c>text_offset</c>.
    /// </summary>
    public IReadOnlyList<string> TokenTexts { get; init; } = [];

    public double LogProb => TokenLogProbs.Sum();
}

/// <summary>The log-probability of a given continuation after a prompt, token by token.</summary>
public sealed record ScoredContinuation(string Continuation, IReadOnlyList<int> TokenIds, IReadOnlyList<double> TokenLogProbs)
{
    /// <summary>Each token's text, when the backend knows it; empty otherwise (see <see cref="Completion.TokenTexts"/>).</summary>
    public IReadOnlyList<string> TokenTexts { get; init; } = [];

    public double LogProb => TokenLogProbs.Sum();
}

/// <summary>
/// A language model as tree search uses it: sample k sibling steps from a prefix, and score given
/// continuations. Implemented by the in-process TorchSharp engine, llama.cpp (LLamaSharp) and an
/// OpenAI-compatible HTTP client. Prefix sharing is the backend's job: siblings of one request share the
/// prompt's keys/values, and a backend keeps recent prompts' caches so a child's request reuses its
/// parent's (as vLLM's automatic prefix caching does). Implementations are safe to call concurrently.
/// </summary>
public interface ILanguageModel : IDisposable
{
    /// <summary>Identifies the weights (a checkpoint path or a served model name); stored in every tree.</summary>
    string ModelId { get; }

    Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default);

    /// <summary>
    /// Log-probabilities of each continuation's tokens after the prompt. With an empty prompt, a model without a BOS
    /// token has nothing to condition a continuation's first token on: that token's log-probability is NaN (OpenAI's
    /// echo reports null), and the rest are conditioned on it.
    /// </summary>
    Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default);
}
