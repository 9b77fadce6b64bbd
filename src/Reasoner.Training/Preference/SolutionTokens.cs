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
    public static int[] Encode(PreferenceTree tree, int terminalId, string delimiter, bool bare, ITextTokenizer tokenizer)
    {
        var end = tree.Nodes[terminalId];
        var steps = tree.Steps(end);
        bool finished = end.IsTerminal && !end.Truncated;
        var tokens = new List<int>();
        for (int k = 0; k < steps.Count; k++)
        {
            bool final = k == steps.Count - 1;
            tokens.AddRange(tokenizer.Encode(steps[k] + (!final || (finished && !bare) ? delimiter : "")));
        }
        if (finished && bare) tokens.Add(tokenizer.EosId);
        return [.. tokens];
    }
}
