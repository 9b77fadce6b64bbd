using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;
using Reasoner.Search;

namespace Reasoner.Tests.Search;

/// <summary>Problems, scripts and helpers shared by the search tests.</summary>
internal static class SearchKit
{
    public const string RightStart = "Let x = 2.";
    public const string WrongStart = "Let x = 3.";

    public static PromptLibrary PromptFiles { get; } = new(PromptLibrary.FindDefaultRoot());

    public static Problem TwoX { get; } = new("p-2x", "arith", "What is 2x if x = 2?", "4", AnswerKind.Number);

    /// <summary>The bare solve prompt keeps the scripted prompts short; the depth limit is far from the script's 3 steps.</summary>
    public static StepWorldSettings World { get; } = new() { SolvePrompt = SolvePromptStyle.Bare, DepthLimit = 6 };

    /// <summary>
    /// <code>
    /// ├─ Let x = 2.  (p .5, judged .9) ─┬─ So 2x = 4. (p .8, judged .9) ── The answer is 4.  correct
    /// │                                 └─ So 2x = 5. (p .2, judged .2) ── The answer is 5.  wrong
    /// └─ Let x = 3.  (p .5, judged .3) ──── So 2x = 6. (p 1, judged .6)  ── The answer is 6.  wrong
    /// </code>
    /// </summary>
    public static StepScript TwoBranches() => new StepScript()
        .After([], (RightStart, 0.5), (WrongStart, 0.5))
        .After([RightStart], ("So 2x = 4.", 0.8), ("So 2x = 5.", 0.2))
        .After([WrongStart], ("So 2x = 6.", 1.0))
        .After([RightStart, "So 2x = 4."], ("The answer is 4.", 1.0))
        .After([RightStart, "So 2x = 5."], ("The answer is 5.", 1.0))
        .After([WrongStart, "So 2x = 6."], ("The answer is 6.", 1.0))
        .Judge(RightStart, 0.9).Judge(WrongStart, 0.3)
        .Judge("So 2x = 4.", 0.9).Judge("So 2x = 5.", 0.2).Judge("So 2x = 6.", 0.6)
        .Judge("The answer is 4.", 0.9).Judge("The answer is 5.", 0.3).Judge("The answer is 6.", 0.4);

    /// <summary>
    /// An unbounded tree: every prefix has three next steps named after their path (p .5, .3, .2), and from depth 3
    /// on a step may be an answer, right or wrong depending on the path; roll-outs therefore succeed at rates that
    /// differ from node to node.
    /// </summary>
    public static StepScript Wide() => new StepScript().Otherwise(steps =>
    {
        var depth = steps.Count;
        var path = string.Concat(steps.Select(s => s.Split(' ')[^1].TrimEnd('.')));
        if (depth >= 3)
        {
            var rightShare = (path.Sum(c => c) % 5) / 4.0;
            return [new ScriptedStep("The answer is 4.", 0.1 + rightShare), new ScriptedStep("The answer is 7.", 1.1 - rightShare)];
        }
        return [new ScriptedStep($"Step {depth + 1} goes via {path}a.", 0.5), new ScriptedStep($"Step {depth + 1} goes via {path}b.", 0.3),
            new ScriptedStep($"Step {depth + 1} goes via {path}c.", 0.2)];
    });

    public static SearchSession Session(ScriptedLanguageModel model, StepWorldSettings? world = null, long seed = 7, Problem? problem = null) =>
        new(new PreferenceTree
        {
            Problem = problem ?? TwoX,
            ModelId = model.ModelId,
            Search = new SearchSettings("test", new Dictionary<string, string>()),
            Seed = seed,
        }, model, new StepWorld(PromptFiles, world ?? World));

    public static StepExpander Expander(ScriptedLanguageModel model, ScoringSettings? scoring = null, ProposalSettings? proposal = null,
        IStepVerifier? verifier = null) =>
        new(new StepProposer(model, proposal ?? new ProposalSettings()), new StepScoring(scoring ?? new ScoringSettings { Weights = ScorerWeights.MctsDpo }, PromptFiles, verifier));

    /// <summary>The stored form of a tree with its timings zeroed, the only part a search may not reproduce.</summary>
    public static byte[] Canonical(PreferenceTree tree)
    {
        var timings = tree.Timings;
        tree.Timings = new SearchTimings(DateTime.UnixEpoch, 0);
        try
        {
            return TreeSerializer.Serialize(tree);
        }
        finally
        {
            tree.Timings = timings;
        }
    }

    public static TreeNode Child(PreferenceTree tree, TreeNode parent, string text) =>
        tree.Children(parent).Single(c => c.Text == text);
}

/// <summary>A verifier that scores a prefix by its last step's text, from a table (0 for unknown steps).</summary>
internal sealed class TableVerifier(IReadOnlyDictionary<string, double> scores) : IStepVerifier
{
    private int _calls;

    public string Id => "table-verifier";

    public int Calls => _calls;

    public Task<IReadOnlyList<double>> ScoreAsync(Problem problem, IReadOnlyList<IReadOnlyList<string>> stepPrefixes, CancellationToken cancel = default)
    {
        Interlocked.Increment(ref _calls);
        IReadOnlyList<double> result = [.. stepPrefixes.Select(p => scores.GetValueOrDefault(p[^1], StableScore(p[^1])))];
        return Task.FromResult(result);
    }

    /// <summary>A score in [0, 1) from the text alone, for steps the table does not name.</summary>
    private static double StableScore(string text) => (uint)text.Aggregate(17, (h, c) => h * 31 + c) % 1000 / 1000.0;
}
