using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Reasoner.Models.Backends;

namespace Reasoner.Tests.Http;

/// <summary>
/// A deterministic fake model. Its tokens are words with their leading whitespace (and trailing whitespace as a
/// token of its own); a token's log-prob is −0.1 × its length and its id the sum of its characters, so every test
/// can compute what to expect. Completions follow <see cref="Script"/>; every call is recorded.
/// </summary>
sealed partial class ScriptedLanguageModel(string modelId = "scripted-model", bool reportTokenTexts = true) : ILanguageModel
{
    int _calls;

    public string ModelId { get; } = modelId;

    /// <summary>Completion <c>i</c> of a request: its text and why it stopped.</summary>
    public Func<CompletionRequest, int, (string Text, FinishReason Finish)> Script { get; init; } =
        (request, i) => ($" step {i} seed {request.Seed}", FinishReason.Stop);

    /// <summary>When set, every call throws it (a backend failure).</summary>
    public Exception? Failure { get; init; }

    public ConcurrentQueue<CompletionRequest> Requests { get; } = new();

    public ConcurrentQueue<(string Prompt, IReadOnlyList<string> Continuations)> ScoreCalls { get; } = new();

    public int Calls => Volatile.Read(ref _calls);

    public static IReadOnlyList<string> Tokenize(string text) => [.. Token().Matches(text).Select(m => m.Value)];

    public static double LogProbOf(string token) => -0.1 * token.Length;

    public static int IdOf(string token) => token.Sum(c => (int)c);

    public Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default)
    {
        Interlocked.Increment(ref _calls);
        Requests.Enqueue(request);
        if (Failure is not null) throw Failure;
        IReadOnlyList<Completion> completions = [.. Enumerable.Range(0, request.N).Select(i =>
        {
            var (text, finish) = Script(request, i);
            var tokens = Tokenize(text);
            return new Completion(text, [.. tokens.Select(IdOf)], [.. tokens.Select(LogProbOf)], finish) { TokenTexts = reportTokenTexts ? tokens : [] };
        })];
        return Task.FromResult(completions);
    }

    /// <summary>Scores each continuation on its own tokens; the prompt is only context.</summary>
    public Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default)
    {
        Interlocked.Increment(ref _calls);
        ScoreCalls.Enqueue((prompt, continuations));
        if (Failure is not null) throw Failure;
        IReadOnlyList<ScoredContinuation> scored = [.. continuations.Select(c =>
        {
            var tokens = Tokenize(c);
            return new ScoredContinuation(c, [.. tokens.Select(IdOf)], [.. tokens.Select(LogProbOf)]) { TokenTexts = reportTokenTexts ? tokens : [] };
        })];
        return Task.FromResult(scored);
    }

    public void Dispose()
    {
    }

    [GeneratedRegex(@"\s*\S+|\s+$")]
    private static partial Regex Token();
}
