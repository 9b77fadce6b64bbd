using Reasoner.Core.Trees;

namespace Reasoner.Core.Judging;

/// <summary>
/// Gold labels for every node of a tree: each step judged in the context of its own path, and whether the path from
/// the root down to it is sound (no invalid step, no wrong answer). Branches share their prefix's judge state, so a
/// tree is judged in one pass over its nodes.
/// </summary>
public sealed class GoldLabels
{
    private readonly StepJudgement?[] _judgements;
    private readonly bool[] _pathSound;

    private GoldLabels(PreferenceTree tree, StepJudgement?[] judgements, bool[] pathSound)
    {
        Tree = tree;
        _judgements = judgements;
        _pathSound = pathSound;
    }

    public PreferenceTree Tree { get; }

    /// <summary>The labels of a tree of a built-in task; an <see cref="ArgumentException"/> for other families.</summary>
    public static GoldLabels Of(PreferenceTree tree)
    {
        var judge = StepJudges.For(tree.Problem);
        var judgements = new StepJudgement?[tree.Nodes.Count];
        var sound = new bool[tree.Nodes.Count];
        var states = new SolutionState?[tree.Nodes.Count];
        states[0] = judge.Start;
        sound[0] = true;
        // Node ids grow from parent to child (AddChild), so one pass in id order sees every parent first.
        foreach (var node in tree.Nodes.Skip(1))
        {
            var (judgement, after) = judge.Judge(states[node.ParentId]!, node.Text);
            judgements[node.Id] = judgement;
            states[node.Id] = after;
            sound[node.Id] = sound[node.ParentId] && judgement.IsSound;
        }
        return new GoldLabels(tree, judgements, sound);
    }

    /// <summary>The step's label; null for the root, which has no step.</summary>
    public StepJudgement? Judgement(TreeNode node) => _judgements[node.Id];

    /// <summary>No step from the root down to this node, itself included, is invalid or a wrong answer.</summary>
    public bool PathSound(TreeNode node) => _pathSound[node.Id];

    /// <summary>Steps <paramref name="first"/> … <paramref name="last"/> (a step and its continuation below it) are all sound.</summary>
    public bool Sound(TreeNode first, TreeNode last)
    {
        for (var node = last; ; node = Tree.Nodes[node.ParentId])
        {
            if (_judgements[node.Id] is not { IsSound: true }) return false;
            if (node.Id == first.Id) return true;
            if (node.IsRoot) throw new ArgumentException($"node {last.Id} is not below node {first.Id}");
        }
    }

    /// <summary>
    /// The oracle's value of a node: 1 when its path is sound (and, at a terminal, ends in a correct, derived answer), else
    /// 0. It ranks steps as a perfect step verifier would.
    /// </summary>
    public double Value(TreeNode node) =>
        _pathSound[node.Id] && (!node.IsTerminal || _judgements[node.Id]?.Label == StepLabel.Correct) ? 1 : 0;

    /// <summary>A correct-answer terminal whose path holds an invalid step: an outcome reward's false positive.</summary>
    public bool IsLuckyAnswer(TreeNode node) => node.IsTerminal && node.IsCorrect == true && !_pathSound[node.Id];
}
