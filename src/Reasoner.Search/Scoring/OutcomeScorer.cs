using Reasoner.Core.Answers;
using Reasoner.Core.Trees;

namespace Reasoner.Search;

/// <summary>
/// The outcome reward at terminals: the solution's answer checked against the reference, Outcome = +1 when correct
/// and -1 otherwise (MCTS-DPO's correct_score, search_config.get_values). Non-terminal steps get no outcome. A
/// solution cut off by a limit is wrong whatever its text says: it gave no final answer, and TRPA's rules rank it
/// lowest.
/// </summary>
public sealed class OutcomeScorer : IStepScorer
{
    public const double Correct = 1;
    public const double Wrong = -1;

    public string Name => "outcome";

    public Task ScoreAsync(SearchSession session, IReadOnlyList<TreeNode> siblings, CancellationToken cancel)
    {
        foreach (var node in siblings) Score(session.Tree, node);
        return Task.CompletedTask;
    }

    /// <summary>Sets <see cref="TreeNode.Answer"/>, <see cref="TreeNode.IsCorrect"/> and <see cref="TreeNode.Outcome"/> of a terminal.</summary>
    public static void Score(PreferenceTree tree, TreeNode node)
    {
        if (!node.IsTerminal) return;
        if (node.Truncated)
        {
            node.Answer = null;
            node.IsCorrect = false;
            node.Outcome = Wrong;
            return;
        }
        var check = AnswerChecker.Check(tree.StepsText(node), tree.Problem);
        node.Answer = check.Extracted;
        node.IsCorrect = check.IsCorrect;
        node.Outcome = check.IsCorrect ? Correct : Wrong;
    }
}
