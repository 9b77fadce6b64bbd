using System.Runtime.CompilerServices;
using Reasoner.Core.Trees;

namespace Reasoner.Core.Judging;

/// <summary>
/// Node values for views and exports, the oracle included. Stored values are read off the node; gold values
/// (<see cref="NodeValueKind.Gold"/>, <see cref="GoldLabels.Value"/>) are judged tree by tree as the trees stream past,
/// so any view ranks steps by them as it would by a stored score.
/// </summary>
public static class GoldValues
{
    /// <summary>
    /// The trees to read and the selector for <paramref name="kind"/>. For gold, each tree is judged when enumeration
    /// reaches it: an <see cref="ArgumentException"/> then for a tree of a family without gold labels.
    /// </summary>
    public static (IEnumerable<PreferenceTree> Trees, Func<TreeNode, double?> Value) Resolve(IEnumerable<PreferenceTree> trees, NodeValueKind kind)
    {
        if (kind != NodeValueKind.Gold) return (trees, NodeValues.Of(kind));
        var values = new ConditionalWeakTable<TreeNode, StrongBox<double>>();
        return (Judged(trees, values), node => values.TryGetValue(node, out var box) ? box.Value : null);
    }

    private static IEnumerable<PreferenceTree> Judged(IEnumerable<PreferenceTree> trees, ConditionalWeakTable<TreeNode, StrongBox<double>> values)
    {
        foreach (var tree in trees)
        {
            if (tree.Status == TreeStatus.Completed)
            {
                var gold = GoldLabels.Of(tree);
                foreach (var node in tree.Nodes.Skip(1)) values.AddOrUpdate(node, new StrongBox<double>(gold.Value(node)));
            }
            yield return tree;
        }
    }
}
