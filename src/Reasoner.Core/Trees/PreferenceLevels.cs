using Reasoner.Core.Problems;

namespace Reasoner.Core.Trees;

/// <summary>
/// TRPA's rule-based preference levels (arXiv 2504.04524, deepscaler/rewards/math_reward_pl.py), 1 best.
/// A response is preferred to every response at a worse level.
/// </summary>
public enum PreferenceLevel
{
    Correct = 1,
    Incorrect = 2,
    /// <summary>No answer could be parsed, or it could not be checked against the reference.</summary>
    Unparsable = 3,
    /// <summary>The solution did not end properly: cut off by a limit, or not finished at all.</summary>
    FormatError = 4,
}

/// <summary>One finished solution and its level.</summary>
public sealed record LeveledPath(int TerminalId, IReadOnlyList<string> Steps, PreferenceLevel Level);

/// <summary>All finished solutions of one problem, best level first: TRPA pairs responses across levels.</summary>
public sealed record LeveledResponses(Problem Problem, IReadOnlyList<LeveledPath> BestFirst);

public static partial class TreeViews
{
    /// <summary>A stored solution's level: the terminal's Truncated flag, then its Answer and IsCorrect.</summary>
    public static PreferenceLevel LevelOf(TreeNode end) => LevelOf(!end.IsTerminal || end.Truncated, end.Answer, end.IsCorrect);

    /// <summary>The same rule for any solution: one that did not end properly, then one without a checked answer, then its correctness.</summary>
    public static PreferenceLevel LevelOf(bool cutOff, string? answer, bool? isCorrect)
    {
        if (cutOff) return PreferenceLevel.FormatError;
        if (answer is null || isCorrect is null) return PreferenceLevel.Unparsable;
        return isCorrect.Value ? PreferenceLevel.Correct : PreferenceLevel.Incorrect;
    }

    /// <summary>The tree's terminal paths with their TRPA levels, best level first (then by node id).</summary>
    public static LeveledResponses PreferenceLevels(PreferenceTree tree) =>
        new(tree.Problem,
        [
            .. tree.Terminals.Where(t => !t.IsRoot)
                .Select(t => new LeveledPath(t.Id, tree.Steps(t), LevelOf(t)))
                .OrderBy(p => p.Level)
                .ThenBy(p => p.TerminalId),
        ]);
}
