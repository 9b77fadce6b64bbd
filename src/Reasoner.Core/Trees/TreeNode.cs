using System.Text.Json.Serialization;
using MessagePack;

namespace Reasoner.Core.Trees;

/// <summary>
/// One step of a searched solution. The root (Id 0) stands for the bare question and has no step text.
/// Search statistics are mutable because searches update them in place; the shape (id, parent, depth,
/// text) is fixed when the node is added with <see cref="PreferenceTree.AddChild"/>.
/// </summary>
[MessagePackObject]
public sealed class TreeNode
{
    [Key(0)] public int Id { get; init; }

    /// <summary>-1 for the root.</summary>
    [Key(1)] public int ParentId { get; init; } = -1;

    [Key(2)] public int Depth { get; init; }

    /// <summary>The step text without the step delimiter; empty for the root.</summary>
    [Key(3)] public string Text { get; init; } = "";

    [Key(4)] public int TokenCount { get; set; }

    /// <summary>Sum of the step's token log-probabilities under the policy that sampled it.</summary>
    [Key(5)] public double LogProb { get; set; }

    /// <summary>Selection prior, e.g. MCTS-DPO's length-normalised exp(sum logp / len^1.25).</summary>
    [Key(6)] public double Prior { get; set; }

    [Key(7)] public int Visits { get; set; }

    /// <summary>Sum of backed-up values, for searches that average them.</summary>
    [Key(8)] public double ValueSum { get; set; }

    /// <summary>
    /// The search's action value. Stored rather than derived from <see cref="ValueSum"/> / <see cref="Visits"/>
    /// because searches define it differently (MCTS-DPO, arXiv 2405.00451: Q = r + γ·V, set at expansion).
    /// </summary>
    [Key(9)] public double Q { get; set; }

    /// <summary>Self-evaluation score: the probability the policy gives to "this step is correct".</summary>
    [Key(10)] public double? SelfEval { get; set; }

    /// <summary>Fraction of roll-outs from this step that reach the reference answer (Tree-PLV, Math-Shepherd).</summary>
    [Key(11)] public double? MonteCarloValue { get; set; }

    /// <summary>Outcome reward at terminals (answer checked against the reference); null elsewhere.</summary>
    [Key(12)] public double? Outcome { get; set; }

    /// <summary>
    /// The step scorers' combined value with the configured weights (MCTS-DPO's node value: self-eval
    /// scaled by depth plus the outcome term).
    /// </summary>
    [Key(13)] public double? StepValue { get; set; }

    /// <summary>The search will not extend this node: the solution ended, or a limit was hit (see <see cref="Truncated"/>).</summary>
    [Key(14)] public bool IsTerminal { get; set; }

    /// <summary>
    /// The solution was cut off by a limit (depth limit, step token limit) rather than ended by the model,
    /// which TRPA's rules rank lowest (level 4).
    /// </summary>
    [Key(15)] public bool Truncated { get; set; }

    /// <summary>The answer extracted from the solution at a terminal; null when none could be parsed.</summary>
    [Key(16)] public string? Answer { get; set; }

    /// <summary>Whether <see cref="Answer"/> matches the reference; null where not checked.</summary>
    [Key(17)] public bool? IsCorrect { get; set; }

    [Key(18)] public List<int> ChildIds { get; init; } = [];

    /// <summary>How many further samples of the same step (up to whitespace) were merged into this node: 0 when it was sampled once.</summary>
    [Key(19)] public int DuplicateCount { get; set; }

    /// <summary>
    /// A trained step verifier's score for the solution up to this step: a Tree-PLV verifier's reward or an OREO
    /// value; null where no verifier scored it.
    /// </summary>
    [Key(20)] public double? VerifierScore { get; set; }

    [IgnoreMember, JsonIgnore] public bool IsRoot => ParentId < 0;

    [IgnoreMember, JsonIgnore] public bool IsLeaf => ChildIds.Count == 0;
}
