namespace Reasoner.Core.Trees;

/// <summary>Which of a node's scores a view ranks and compares steps by.</summary>
public enum NodeValueKind
{
    Q,
    MonteCarloValue,
    SelfEval,
    Outcome,
    StepValue,
    VerifierScore,

    /// <summary>
    /// The step's mean log-probability per token under the policy that sampled it (<see cref="TreeNode.LogProb"/> over
    /// <see cref="TreeNode.TokenCount"/>): the model's own confidence in the step, the baseline a prompted
    /// self-evaluation has to beat. Null where no tokens were recorded.
    /// </summary>
    PolicyLogProb,

    /// <summary>
    /// The oracle: 1 where the path down to the node is sound by the gold step labels of the built-in tasks, else 0
    /// (<see cref="Judging.GoldValues"/>). Not stored in trees; judged as they are read.
    /// </summary>
    Gold,
}

/// <summary>
/// Score selectors for the views. A selector returns null where the node has no such score, and the
/// views leave such nodes out of comparisons rather than treating a missing score as zero.
/// </summary>
public static class NodeValues
{
    public static readonly Func<TreeNode, double?> Q = n => n.Q;
    public static readonly Func<TreeNode, double?> MonteCarloValue = n => n.MonteCarloValue;
    public static readonly Func<TreeNode, double?> SelfEval = n => n.SelfEval;
    public static readonly Func<TreeNode, double?> Outcome = n => n.Outcome;
    public static readonly Func<TreeNode, double?> StepValue = n => n.StepValue;
    public static readonly Func<TreeNode, double?> VerifierScore = n => n.VerifierScore;
    public static readonly Func<TreeNode, double?> PolicyLogProb = n => n.TokenCount > 0 ? n.LogProb / n.TokenCount : null;

    /// <summary>The selector for a kind named in configuration.</summary>
    public static Func<TreeNode, double?> Of(NodeValueKind kind) => kind switch
    {
        NodeValueKind.Q => Q,
        NodeValueKind.MonteCarloValue => MonteCarloValue,
        NodeValueKind.SelfEval => SelfEval,
        NodeValueKind.Outcome => Outcome,
        NodeValueKind.StepValue => StepValue,
        NodeValueKind.VerifierScore => VerifierScore,
        NodeValueKind.PolicyLogProb => PolicyLogProb,
        NodeValueKind.Gold => throw new ArgumentException("gold values are judged per tree: use GoldValues.Resolve", nameof(kind)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
