using Reasoner.Core.Problems;

namespace Reasoner.Core.Trees;

/// <summary>Which pairs a sibling group yields.</summary>
public enum PairSelection
{
    /// <summary>Every pair far enough apart (Tree-PLV, arXiv 2407.00390).</summary>
    All,

    /// <summary>Only the best sibling against the worst (MCTS-DPO, arXiv 2405.00451, flag --choose_worst).</summary>
    BestVsWorst,
}

/// <summary>Which sibling groups of a tree pairs are taken from.</summary>
public enum SiblingGroups
{
    /// <summary>Every node with two or more children.</summary>
    All,

    /// <summary>
    /// Only the children of the nodes on the path that follows the most visited child from the root:
    /// MCTS-DPO builds one pair per depth along the action sequence its search committed to
    /// (most visits, ties to higher Q).
    /// </summary>
    MostVisitedPath,
}

public sealed record StepPairOptions
{
    /// <summary>Tree-PLV: all sibling pairs whose Monte Carlo values differ by at least 0.375.</summary>
    public static StepPairOptions TreePlv { get; } = new();

    /// <summary>MCTS-DPO: best against worst sibling by Q at each depth of the committed path, single-child chains merged.</summary>
    public static StepPairOptions MctsDpo { get; } = new()
    {
        Value = NodeValues.Q,
        MinMargin = 0,
        Selection = PairSelection.BestVsWorst,
        Groups = SiblingGroups.MostVisitedPath,
        Continuation = ContinuationMode.SingleChildChain,
    };

    public Func<TreeNode, double?> Value { get; init; } = NodeValues.MonteCarloValue;

    /// <summary>
    /// Smallest value(chosen) - value(rejected) that makes a pair. Pairs are also always strictly ordered:
    /// equal values carry no preference, whatever the margin.
    /// </summary>
    public double MinMargin { get; init; } = 0.375;

    public PairSelection Selection { get; init; } = PairSelection.All;

    public SiblingGroups Groups { get; init; } = SiblingGroups.All;

    public ContinuationMode Continuation { get; init; } = ContinuationMode.None;
}

/// <summary>
/// Two sibling steps after the same prefix, the chosen one valued higher. The prefix is the steps from the
/// root down to the shared parent; each side holds its step and, if asked for, its continuation.
/// </summary>
public sealed record StepPair(Problem Problem, int ParentId, IReadOnlyList<string> PrefixSteps, ScoredStep Chosen, ScoredStep Rejected);

public static partial class TreeViews
{
    /// <summary>Step-level preference pairs among siblings (step DPO, the Tree-PLV verifier).</summary>
    public static IEnumerable<StepPair> StepPairs(PreferenceTree tree, StepPairOptions options)
    {
        foreach (var parent in PairGroupParents(tree, options.Groups))
        {
            var ranked = Ranking.BestFirst(tree.Children(parent), options.Value);
            if (ranked.Count < 2) continue;
            var prefix = tree.Steps(parent);
            foreach (var (chosen, rejected) in CandidatePairs(ranked, options.Selection))
            {
                var margin = chosen.Value - rejected.Value;
                if (margin <= 0 || margin < options.MinMargin) continue;
                yield return new StepPair(tree.Problem, parent.Id, prefix,
                    Ranking.Score(tree, chosen.Node, chosen.Value, options.Continuation, options.Value),
                    Ranking.Score(tree, rejected.Node, rejected.Value, options.Continuation, options.Value));
            }
        }
    }

    private static IEnumerable<((TreeNode Node, double Value) Chosen, (TreeNode Node, double Value) Rejected)> CandidatePairs(
        List<(TreeNode Node, double Value)> bestFirst, PairSelection selection)
    {
        if (selection == PairSelection.BestVsWorst)
        {
            yield return (bestFirst[0], bestFirst[^1]);
            yield break;
        }
        for (var i = 0; i < bestFirst.Count; i++)
            for (var j = i + 1; j < bestFirst.Count; j++)
                yield return (bestFirst[i], bestFirst[j]);
    }

    private static IEnumerable<TreeNode> PairGroupParents(PreferenceTree tree, SiblingGroups groups)
    {
        if (groups == SiblingGroups.All)
        {
            foreach (var node in tree.Nodes.Where(n => n.ChildIds.Count >= 2))
                yield return node;
            yield break;
        }
        for (var node = tree.Root; !node.IsLeaf; node = MostVisitedChild(tree, node))
            if (node.ChildIds.Count >= 2)
                yield return node;
    }

    /// <summary>The child MCTS commits to (MCTS-DPO with mcts_temperature 0): the most visited; ties to higher Q, then lower id.</summary>
    public static TreeNode MostVisitedChild(PreferenceTree tree, TreeNode node) =>
        tree.Children(node).OrderByDescending(c => c.Visits).ThenByDescending(c => c.Q).ThenBy(c => c.Id).First();
}
