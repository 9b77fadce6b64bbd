using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;

namespace Reasoner.Search;

/// <summary>
/// Step-level beam search settings. OREO's value-guided search (arXiv 2412.16145 §4.3) keeps B = 7 candidates and
/// expands each; ours default to 3 × 3 for the CPU model. The default scorer is the policy's self-evaluation, because
/// the outcome and Monte Carlo scorers read the reference answer, which a test-time search must not; plug in a
/// value model with <see cref="ScorerWeights.VerifierOnly"/>.
/// </summary>
public sealed record BeamSettings : StepSearchSettings
{
    public BeamSettings() : base(ScorerWeights.SelfEvaluation) { }

    /// <summary>Solutions kept at each depth (B).</summary>
    public int BeamWidth { get; init; } = 3;

    /// <summary>Steps sampled from each kept solution.</summary>
    public int Actions { get; init; } = 3;

    private protected override void RecordAlgorithm(SettingsRecorder recorder) => recorder
        .Add("beamWidth", BeamWidth)
        .Add("actions", Actions);
}

/// <summary>
/// Step-level beam search, as OREO's value-guided decoding (arXiv 2412.16145 §4.3, examples/scratch/sbs*.py): expand
/// each of the B kept partial solutions with k steps, score all candidates, keep the best B. Finished solutions
/// keep their place: the search ends when B solutions have finished or none is left to extend, and the best
/// finished one by value is the answer.
/// </summary>
/// <remarks>
/// The B expansions of a depth are requested together, so a backend can batch them. Pruned candidates stay in the
/// tree (they are preference data too); kept ones get one visit, so the tree shows the beam. Ties go to the lower id.
/// </remarks>
public sealed class BeamSearch : ISearchAlgorithm
{
    public const string AlgorithmName = AlgorithmNames.Beam;

    private readonly SearchRunner _runner;

    public BeamSearch(ILanguageModel model, PromptLibrary prompts, BeamSettings? settings = null, IStepVerifier? verifier = null)
    {
        Settings = settings ?? new BeamSettings();
        if (Settings.BeamWidth < 1 || Settings.Actions < 1) throw new ArgumentException("beam width and actions must be at least 1");
        _runner = new SearchRunner(AlgorithmName, model, prompts, Settings, verifier);
    }

    public string Name => AlgorithmName;

    /// <summary>The search's answer: the finished solution the beam kept with the highest step value (ties to the lower id); null when none finished.</summary>
    public static TreeNode? Answer(PreferenceTree tree) =>
        tree.Nodes.Where(n => !n.IsRoot && n.IsTerminal && n.Visits > 0)
            .OrderByDescending(n => n.StepValue ?? double.NegativeInfinity).ThenBy(n => n.Id).FirstOrDefault();

    public BeamSettings Settings { get; }

    public Task<PreferenceTree> SearchAsync(Problem problem, CancellationToken cancel = default) =>
        _runner.RunAsync(problem, SearchAsync, cancel);

    private async Task SearchAsync(SearchSession session, CancellationToken cancel)
    {
        IReadOnlyList<TreeNode> beam = [session.Tree.Root];
        session.Tree.Root.Visits++;
        var finished = 0;
        while (beam.Count > 0)
        {
            var expansions = await _runner.Expander.ExpandAllAsync(session, beam, Settings.Actions, cancel);
            using (session.Timer.Measure(PhaseTimer.Select))
            {
                // A beam entry that got no step has just ended its solution, in its own slot.
                finished += beam.Count(node => node.IsTerminal);
                var kept = expansions.SelectMany(children => children)
                    .OrderByDescending(c => c.StepValue ?? double.NegativeInfinity)
                    .ThenBy(c => c.Id)
                    .Take(Math.Max(0, Settings.BeamWidth - finished))
                    .ToList();
                foreach (var node in kept) node.Visits++;
                finished += kept.Count(node => node.IsTerminal);
                beam = [.. kept.Where(node => !node.IsTerminal)];
            }
        }
    }
}
