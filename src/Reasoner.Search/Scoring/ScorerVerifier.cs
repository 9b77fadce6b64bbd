using Reasoner.Core.Export;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Scoring;

namespace Reasoner.Search;

/// <summary>
/// A trained scorer (a <c>train plv</c> verifier, an OREO value head; in process or on a server) as search's <see cref="IStepVerifier"/>. Prefixes that share all but
/// their last step (siblings of one expansion) are scored in one call: the solve prompt and their shared steps are the
/// prompt, run once, and each new step is one candidate. The score is σ of the head's output at the step's end, in
/// [0, 1] like the other step values.
/// </summary>
public sealed class ScorerVerifier(IStepScoringModel engine, PromptLibrary prompts) : IStepVerifier
{
    public string Id => engine.Id;

    public async Task<IReadOnlyList<double>> ScoreAsync(Problem problem, IReadOnlyList<IReadOnlyList<string>> stepPrefixes, CancellationToken cancel = default)
    {
        var results = new double[stepPrefixes.Count];
        var head = prompts.RenderSolve(problem, engine.ReadsBarePrompt);
        foreach (var group in Enumerable.Range(0, stepPrefixes.Count).Where(i => stepPrefixes[i].Count > 0)
                     .GroupBy(i => string.Join(PreferenceTree.StepDelimiter, stepPrefixes[i].SkipLast(1))))
        {
            var members = group.ToArray();
            var prompt = PromptText.State(head, stepPrefixes[members[0]].SkipLast(1));
            var scores = await engine.ScoreStepsAsync(prompt, [.. members.Select(i => (IReadOnlyList<string>)[stepPrefixes[i][^1]])], PreferenceTree.StepDelimiter, cancel);
            for (int k = 0; k < members.Length; k++) results[members[k]] = ScorerEngine.Sigmoid(scores[k][0]);
        }
        return results;
    }
}
