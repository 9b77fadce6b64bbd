using Reasoner.Models.Backends;
using Reasoner.Models.Generation;

namespace Reasoner.Cli.Bench;

/// <summary>
/// The search benchmark's baseline engine path: every request for k siblings becomes k one-row requests and every
/// batch of continuations to score becomes one request each, on an engine built without a prefix cache, so each
/// call prefills its whole prompt again (no prefix forking, no batching). Row i of a seeded request is asked for
/// with <see cref="TorchEngine.SeedOfRow"/>, so it samples what the batched engine samples and the search builds the
/// same tree, up to floating-point differences between batched and single-row arithmetic.
/// </summary>
sealed class UnbatchedModel(ILanguageModel inner) : ILanguageModel
{
    public string ModelId => inner.ModelId;

    public async Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default)
    {
        if (request.N == 1) return await inner.CompleteAsync(request, cancel);
        var completions = new List<Completion>(request.N);
        for (int row = 0; row < request.N; row++)
        {
            var single = request with { N = 1, Seed = request.Seed is { } seed ? TorchEngine.SeedOfRow(seed, row) : null };
            completions.AddRange(await inner.CompleteAsync(single, cancel));
        }
        return completions;
    }

    public async Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default)
    {
        var scored = new List<ScoredContinuation>(continuations.Count);
        foreach (var continuation in continuations)
            scored.AddRange(await inner.ScoreAsync(prompt, [continuation], cancel));
        return scored;
    }

    /// <summary>The engine belongs to the caller, who measures several paths over it.</summary>
    public void Dispose() { }
}
