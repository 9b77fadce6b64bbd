using Reasoner.Core.Problems;

namespace Reasoner.Core.Trees;

public sealed record SiblingListOptions
{
    public Func<TreeNode, double?> Value { get; init; } = NodeValues.Q;

    /// <summary>Fewest valued children a node needs for its list; TPO (arXiv 2410.12854) ranks lists of two or more.</summary>
    public int MinListSize { get; init; } = 2;

    public ContinuationMode Continuation { get; init; } = ContinuationMode.None;
}

/// <summary>The children of one node, best first, after the steps that lead to that node.</summary>
public sealed record RankedSiblings(Problem Problem, int ParentId, IReadOnlyList<string> PrefixSteps, IReadOnlyList<ScoredStep> BestFirst);

public sealed record TrajectoryListOptions
{
    /// <summary>Scores a trajectory by its terminal node.</summary>
    public Func<TreeNode, double?> Score { get; init; } = NodeValues.Outcome;

    public int MinListSize { get; init; } = 2;
}

/// <summary>A whole root-to-terminal solution with its score.</summary>
public sealed record ScoredTrajectory(int TerminalId, IReadOnlyList<string> Steps, double Score);

/// <summary>
/// All finished solutions of one problem, best first: TPO's input record
/// <c>{prompt, response_list[{response: [steps], score}]}</c>.
/// </summary>
public sealed record RankedTrajectories(Problem Problem, IReadOnlyList<ScoredTrajectory> BestFirst);

public static partial class TreeViews
{
    /// <summary>TPO's listwise data at step level: for each node, its children ranked by value.</summary>
    public static IEnumerable<RankedSiblings> SiblingLists(PreferenceTree tree, SiblingListOptions options)
    {
        foreach (var parent in tree.Nodes.Where(n => n.ChildIds.Count >= options.MinListSize))
        {
            var ranked = Ranking.BestFirst(tree.Children(parent), options.Value);
            if (ranked.Count < options.MinListSize) continue;
            yield return new RankedSiblings(tree.Problem, parent.Id, tree.Steps(parent),
                [.. ranked.Select(x => Ranking.Score(tree, x.Node, x.Value, options.Continuation, options.Value))]);
        }
    }

    /// <summary>
    /// TPO's listwise data over whole solutions: every scored terminal's path, best first;
    /// null when fewer than <see cref="TrajectoryListOptions.MinListSize"/> terminals have a score.
    /// </summary>
    public static RankedTrajectories? TrajectoryList(PreferenceTree tree, TrajectoryListOptions options)
    {
        var ranked = Ranking.BestFirst(tree.Terminals.Where(t => !t.IsRoot), options.Score);
        if (ranked.Count < options.MinListSize) return null;
        return new RankedTrajectories(tree.Problem,
            [.. ranked.Select(x => new ScoredTrajectory(x.Node.Id, tree.Steps(x.Node), x.Value))]);
    }
}
