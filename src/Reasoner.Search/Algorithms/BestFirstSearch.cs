using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;

namespace Reasoner.Search;

/// <summary>
/// Tree-PLV's search settings. The paper (arXiv 2407.00390) rewards steps with N = 8 roll-outs; its k and budget
/// are not in the digest of the paper we work from (no code was released), so ours are chosen for the CPU model.
/// </summary>
public sealed record BestFirstSettings : StepSearchSettings
{
    public BestFirstSettings() : base(ScorerWeights.TreePlv) { }

    /// <summary>Child steps sampled per expansion (Tree-PLV's k).</summary>
    public int Actions { get; init; } = 4;

    /// <summary>Most nodes expanded per problem.</summary>
    public int MaxExpansions { get; init; } = 32;

    /// <summary>
    /// Stop when the best open node is a finished solution, the paper's "stop when a chain ends"; otherwise finished
    /// solutions are set aside and the search goes on until the budget or the queue runs out.
    /// </summary>
    public bool StopAtFirstTerminal { get; init; } = true;

    private protected override void RecordAlgorithm(SettingsRecorder recorder) => recorder
        .Add("actions", Actions)
        .Add("maxExpansions", MaxExpansions)
        .Add("stopAtFirstTerminal", StopAtFirstTerminal);
}

/// <summary>
/// Best-first search as Tree-PLV builds its trees (He et al., EMNLP 2024, arXiv 2407.00390 §3.2): the root is the
/// question; repeatedly take the open node with the highest step reward and expand it with k sampled child steps,
/// each rewarded — by default with the roll-out accuracy R(y_i) = (1/N) Σ_j 1[answer(P_i^j) = gold], any weighted
/// mix of scorers allowed.
/// </summary>
/// <remarks>
/// Finished solutions enter the queue with their value like any other node, and taking one out is the goal test:
/// with <see cref="BestFirstSettings.StopAtFirstTerminal"/> the search ends there. Ties go to the lower node id
/// (the earlier step), so the order never depends on the queue's internals. Expanded nodes get one visit, so that
/// the tree shows what the search took.
/// </remarks>
public sealed class BestFirstSearch : ISearchAlgorithm
{
    public const string AlgorithmName = AlgorithmNames.BestFirst;

    private readonly SearchRunner _runner;

    public BestFirstSearch(ILanguageModel model, PromptLibrary prompts, BestFirstSettings? settings = null, IStepVerifier? verifier = null)
    {
        Settings = settings ?? new BestFirstSettings();
        if (Settings.Actions < 1) throw new ArgumentException("actions must be at least 1");
        if (Settings.MaxExpansions < 0) throw new ArgumentException("the expansion budget must not be negative");
        _runner = new SearchRunner(AlgorithmName, model, prompts, Settings, verifier);
    }

    public string Name => AlgorithmName;

    public BestFirstSettings Settings { get; }

    public Task<PreferenceTree> SearchAsync(Problem problem, CancellationToken cancel = default) =>
        _runner.RunAsync(problem, SearchAsync, cancel);

    private async Task SearchAsync(SearchSession session, CancellationToken cancel)
    {
        var open = new PriorityQueue<TreeNode, (double Value, int Id)>(BestFirst.Instance);
        open.Enqueue(session.Tree.Root, (double.PositiveInfinity, 0));
        var expansions = 0;
        while (expansions < Settings.MaxExpansions)
        {
            TreeNode node;
            using (session.Timer.Measure(PhaseTimer.Select))
            {
                if (!open.TryDequeue(out node!, out _)) break;
                node.Visits++;
            }
            if (node.IsTerminal)
            {
                if (Settings.StopAtFirstTerminal) break;
                continue;
            }
            var children = await _runner.Expander.ExpandAsync(session, node, Settings.Actions, cancel);
            expansions++;
            using (session.Timer.Measure(PhaseTimer.Select))
            {
                foreach (var child in children)
                    open.Enqueue(child, (child.StepValue ?? double.NegativeInfinity, child.Id));
            }
        }
    }

    /// <summary>Higher value first, then lower id.</summary>
    private sealed class BestFirst : IComparer<(double Value, int Id)>
    {
        public static readonly BestFirst Instance = new();

        public int Compare((double Value, int Id) x, (double Value, int Id) y)
        {
            var byValue = y.Value.CompareTo(x.Value);
            return byValue != 0 ? byValue : x.Id.CompareTo(y.Id);
        }
    }
}
