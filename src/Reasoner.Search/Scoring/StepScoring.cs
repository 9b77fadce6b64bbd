using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;

namespace Reasoner.Search;

public sealed record ScoringSettings
{
    /// <summary>
    /// Required rather than defaulted: each algorithm's settings start from its paper's weights, and a default here
    /// would silently replace them whenever only the roll-out settings are given.
    /// </summary>
    public required ScorerWeights Weights { get; init; }

    public MonteCarloSettings MonteCarlo { get; init; } = new();

    /// <summary>The self-evaluation prompt (<c>self-eval</c>, few-shot; <c>self-eval-bare</c> for models that learned the bare format).</summary>
    public string SelfEvalPrompt { get; init; } = PromptLibrary.SelfEval;

    internal void Record(SettingsRecorder recorder, IStepVerifier? verifier)
    {
        Weights.Record(recorder);
        if (Weights.SelfEval != 0) recorder.Add("selfEval.prompt", SelfEvalPrompt);
        MonteCarlo.Record(recorder);
        recorder.Add("verifier", verifier?.Id ?? "none");
    }
}

/// <summary>
/// Runs the scorers that <see cref="ScorerWeights"/> asks for over each expansion, in a fixed order (outcome first,
/// which the Monte Carlo scorer reads at terminals), then sets every sibling's <see cref="TreeNode.StepValue"/>.
/// </summary>
public sealed class StepScoring
{
    private readonly List<IStepScorer> _scorers = [new OutcomeScorer()];

    public StepScoring(ScoringSettings settings, PromptLibrary prompts, IStepVerifier? verifier = null)
    {
        Settings = settings;
        var weights = settings.Weights;
        if (weights.SelfEval != 0) _scorers.Add(new SelfEvaluationScorer(prompts.Get(settings.SelfEvalPrompt)));
        if (weights.MonteCarlo != 0) _scorers.Add(new MonteCarloScorer(settings.MonteCarlo));
        if (weights.Verifier != 0)
            _scorers.Add(new VerifierScorer(verifier ?? throw new ArgumentException("the verifier weight is not zero but no verifier was given", nameof(verifier))));
    }

    public ScoringSettings Settings { get; }

    public IReadOnlyList<string> ScorerNames => [.. _scorers.Select(s => s.Name)];

    public async Task ScoreAsync(SearchSession session, IReadOnlyList<TreeNode> siblings, CancellationToken cancel)
    {
        foreach (var scorer in _scorers)
            await scorer.ScoreAsync(session, siblings, cancel);
        foreach (var node in siblings)
            node.StepValue = Settings.Weights.Combine(node);
    }

    /// <summary>
    /// Re-scores a node that turned out to end the solution after it was scored as open (the model had no further
    /// step): its outcome, and its Monte Carlo value as a terminal. Its self-evaluation and verifier score judge its
    /// own text and stay.
    /// </summary>
    public void ScoreAsEnded(PreferenceTree tree, TreeNode node)
    {
        OutcomeScorer.Score(tree, node);
        if (node.MonteCarloValue is not null) MonteCarloScorer.ScoreTerminal(node);
        if (!node.IsRoot) node.StepValue = Settings.Weights.Combine(node);
    }
}
