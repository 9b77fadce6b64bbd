using Reasoner.Core.Trees;
using Reasoner.Models.Tokenization;

namespace Reasoner.Training.Preference;

/// <summary>A whole root-to-terminal solution of a tree in the policy's tokens.</summary>
public static class SolutionTokens
{
    /// <summary>
    /// The solution as the policy wrote it, step by step: each step closed by the delimiter, a finished bare-prompted
    /// solution closed by end-of-sequence instead, a cut-off one by nothing (see <see cref="StepPairData"/>).
    /// </summary>
    public static int[] Encode(PreferenceTree tree, int terminalId, string delimiter, bool bare, ITextTokenizer tokenizer) =>
        [.. Steps(tree.Steps(tree.Nodes[terminalId]), tree.Nodes[terminalId], delimiter, bare, tokenizer).SelectMany(s => s)];

    /// <summary>
    /// Each of <paramref name="steps"/> in tokens as search sampled it, the last of them ending at node <paramref name="last"/>:
    /// a step the solution goes on after, or one a search stopped at the delimiter, keeps the delimiter; a finished
    /// bare-prompted solution's last step ends with end-of-sequence; a cut-off one with neither.
    /// </summary>
    public static IReadOnlyList<int[]> Steps(IReadOnlyList<string> steps, TreeNode last, string delimiter, bool bare, ITextTokenizer tokenizer)
    {
        bool finished = last.IsTerminal && !last.Truncated;
        var pieces = new List<int[]>(steps.Count);
        for (int k = 0; k < steps.Count; k++)
        {
            bool final = k == steps.Count - 1;
            var ids = tokenizer.Encode(steps[k] + (!final || !last.IsTerminal || (finished && !bare) ? delimiter : ""));
            pieces.Add(final && finished && bare ? [.. ids, tokenizer.EosId] : ids);
        }
        return pieces;
    }
}
