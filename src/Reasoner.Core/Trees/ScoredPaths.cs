using Reasoner.Core.Problems;

namespace Reasoner.Core.Trees;

public sealed record PathOptions
{
    /// <summary>
    /// Also return paths that end at a leaf the search never finished (for value / PRM training on partial
    /// solutions); such paths get reward 0.
    /// </summary>
    public bool IncludeUnfinishedLeaves { get; init; }
}

/// <summary>
/// One root-to-leaf path. <see cref="Steps"/> are the nodes below the root, each with all its scores, so
/// that a trainer can read per-step values (PRM) or the sparse final reward (OREO).
/// </summary>
public sealed record ScoredPath(Problem Problem, IReadOnlyList<TreeNode> Steps, double Reward)
{
    public TreeNode Leaf => Steps[^1];

    public IReadOnlyList<string> StepTexts => [.. Steps.Select(s => s.Text)];
}

public static partial class TreeViews
{
    /// <summary>
    /// Root-to-terminal paths with the OREO reward (arXiv 2412.16145): 1 at the terminal step if its answer
    /// is correct, else 0.
    /// </summary>
    public static IEnumerable<ScoredPath> Paths(PreferenceTree tree, PathOptions options)
    {
        foreach (var leaf in tree.Nodes.Where(n => !n.IsRoot && (n.IsTerminal || (options.IncludeUnfinishedLeaves && n.IsLeaf))))
            yield return new ScoredPath(tree.Problem, [.. tree.PathTo(leaf).Skip(1)], OutcomeReward(leaf));
    }

    /// <summary>OREO's sparse reward: 1 for a correct finished solution, 0 for anything else.</summary>
    public static double OutcomeReward(TreeNode leaf) => leaf.IsTerminal && leaf.IsCorrect == true ? 1 : 0;
}
