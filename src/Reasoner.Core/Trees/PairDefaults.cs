namespace Reasoner.Core.Trees;

/// <summary>The names search algorithms record in their trees (<see cref="SearchSettings.Algorithm"/>).</summary>
public static class AlgorithmNames
{
    public const string Mcts = "mcts";
    public const string BestFirst = "best-first";
    public const string Beam = "beam";
}

/// <summary>
/// Which pairs a run gives by default: the value its search ranked steps by, the pairs step-level DPO trains on, and
/// the pairs <c>export</c> writes. One place, so that training, export and the data-quality report agree.
/// </summary>
public static class PairDefaults
{
    /// <summary>
    /// The node value the trees' search ranked steps by: Q for MCTS (MCTS-DPO's pairs), the Monte Carlo value for
    /// best-first (Tree-PLV's), the combined step value for beam and anything else. Trees of several algorithms were
    /// ranked by different values and have no one answer (an <see cref="ArgumentException"/>).
    /// </summary>
    public static NodeValueKind RankingValue(IEnumerable<string> treeAlgorithms)
    {
        var algorithms = treeAlgorithms.Distinct().Order(StringComparer.Ordinal).ToList();
        return algorithms switch
        {
            [AlgorithmNames.Mcts] => NodeValueKind.Q,
            [AlgorithmNames.Beam] => NodeValueKind.StepValue,
            [] or [AlgorithmNames.BestFirst] => NodeValueKind.MonteCarloValue,
            [_] => NodeValueKind.StepValue,
            _ => throw new ArgumentException($"the trees come from {string.Join(" and ", algorithms)}, ranked by different values: choose one"),
        };
    }

    /// <summary>
    /// Step-level DPO's pairs (MCTS-DPO, arXiv 2405.00451): best against worst sibling, each side with its single-child
    /// chain, no margin; along the most visited path when ranked by Q (MCTS trees), at every branching node otherwise.
    /// </summary>
    public static StepPairOptions ForTraining(NodeValueKind ranking, Func<TreeNode, double?> value) => StepPairOptions.MctsDpo with
    {
        Value = value,
        Groups = ranking == NodeValueKind.Q ? SiblingGroups.MostVisitedPath : SiblingGroups.All,
    };

    /// <summary><c>export</c>'s pairs (Tree-PLV, arXiv 2407.00390): every sibling pair at least 0.375 apart, the step alone.</summary>
    public static StepPairOptions ForExport(Func<TreeNode, double?> value) => StepPairOptions.TreePlv with { Value = value };
}
