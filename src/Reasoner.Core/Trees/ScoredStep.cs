namespace Reasoner.Core.Trees;

/// <summary>How much of the solution below a compared step a view attaches to it.</summary>
public enum ContinuationMode
{
    /// <summary>The step alone; Tree-PLV (arXiv 2407.00390) compares prefixes that end at the diverging step.</summary>
    None,

    /// <summary>
    /// The step plus the steps below it while each has exactly one child: MCTS-DPO (arXiv 2405.00451,
    /// trainer.post_tree_construct) merges such chains because there is no alternative to compare them with.
    /// </summary>
    SingleChildChain,

    /// <summary>
    /// The step plus, level by level, the best child by the view's value down to a leaf, so that each
    /// side is a whole solution wherever the search finished one below it.
    /// </summary>
    BestChildToLeaf,
}

/// <summary>A step as a view compares it: its node, text, value, visits and the steps attached below it.</summary>
public sealed record ScoredStep(int NodeId, string Step, double Value, int Visits, IReadOnlyList<string> Continuation)
{
    /// <summary>The step followed by its continuation.</summary>
    public IReadOnlyList<string> Steps => [Step, .. Continuation];

    /// <summary>The node of the last of <see cref="Steps"/>: <see cref="NodeId"/> when there is no continuation.</summary>
    public int LastNodeId { get; init; } = NodeId;
}

/// <summary>Ranking and continuation rules shared by the views, so that all of them order steps the same way.</summary>
internal static class Ranking
{
    /// <summary>
    /// Nodes that have a finite value, best first; a NaN is treated as missing rather than ranked.
    /// Ties go to the more visited node (MCTS-DPO sorts siblings by Q, then visit share), then to the
    /// lower id so that the order is deterministic.
    /// </summary>
    public static List<(TreeNode Node, double Value)> BestFirst(IEnumerable<TreeNode> nodes, Func<TreeNode, double?> value) =>
        nodes.Select(n => (Node: n, Value: value(n)))
            .Where(x => x.Value is { } v && double.IsFinite(v))
            .Select(x => (x.Node, Value: x.Value!.Value))
            .OrderByDescending(x => x.Value)
            .ThenByDescending(x => x.Node.Visits)
            .ThenBy(x => x.Node.Id)
            .ToList();

    public static ScoredStep Score(PreferenceTree tree, TreeNode node, double value, ContinuationMode continuation,
        Func<TreeNode, double?> rankBy)
    {
        var steps = new List<string>();
        var current = node;
        while (Next(tree, current, continuation, rankBy) is { } next)
        {
            steps.Add(next.Text);
            current = next;
        }
        return new(node.Id, node.Text, value, node.Visits, steps) { LastNodeId = current.Id };
    }

    private static TreeNode? Next(PreferenceTree tree, TreeNode node, ContinuationMode continuation, Func<TreeNode, double?> rankBy) =>
        continuation switch
        {
            ContinuationMode.None => null,
            ContinuationMode.SingleChildChain => node.ChildIds.Count == 1 ? tree.Nodes[node.ChildIds[0]] : null,
            // Children without a value still continue the solution; they rank after the valued ones.
            ContinuationMode.BestChildToLeaf => tree.Children(node)
                .OrderByDescending(c => rankBy(c) ?? double.NegativeInfinity)
                .ThenByDescending(c => c.Visits)
                .ThenBy(c => c.Id)
                .FirstOrDefault(),
            _ => throw new ArgumentOutOfRangeException(nameof(continuation), continuation, null),
        };
}
