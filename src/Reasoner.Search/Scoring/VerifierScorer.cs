using Reasoner.Core.Trees;

namespace Reasoner.Search;

/// <summary>Scores each sibling's solution prefix with an <see cref="IStepVerifier"/>, one call per expansion.</summary>
public sealed class VerifierScorer(IStepVerifier verifier) : IStepScorer
{
    public string Name => "verifier";

    public async Task ScoreAsync(SearchSession session, IReadOnlyList<TreeNode> siblings, CancellationToken cancel)
    {
        if (siblings.Count == 0) return;
        var scores = await verifier.ScoreAsync(session.Problem, [.. siblings.Select(session.Tree.Steps)], cancel);
        if (scores.Count != siblings.Count)
            throw new InvalidOperationException($"verifier {verifier.Id} returned {scores.Count} scores for {siblings.Count} prefixes");
        for (var i = 0; i < siblings.Count; i++) siblings[i].VerifierScore = scores[i];
    }
}
