using Reasoner.Core.Export;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Scoring;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Preference;

namespace Reasoner.Training.Plv;

/// <summary>
/// Two solutions of one problem that part at a step: the prompt with the steps they share, then each side's steps from
/// the divergence on, each step a token piece (the step and its delimiter) whose last token is where the verifier's score
/// is read. Only the first <see cref="Compared"/> steps of each side enter the loss.
/// </summary>
public sealed record PlvPair(string ProblemId, int[] Prompt, IReadOnlyList<int[]> Chosen, IReadOnlyList<int[]> Rejected)
{
    /// <summary>m − d + 1: the steps from the divergence to the shorter side's last.</summary>
    public int Compared => Math.Min(Chosen.Count, Rejected.Count);

    /// <summary>The longer row the loss reads, in tokens.</summary>
    public int Length => Prompt.Length + Math.Max(Chosen.Take(Compared).Sum(p => p.Length), Rejected.Take(Compared).Sum(p => p.Length));
}

/// <summary>The pairs of some trees in tokens, with what was left out and why.</summary>
public sealed record PlvPairSet(IReadOnlyList<PlvPair> Pairs, int Trees, int TooLong, int Empty);

/// <summary>
/// Tree-PLV's training pairs: every pair of siblings whose rewards (by default the Monte Carlo roll-out value a best-first
/// search gives) differ by at least the margin, each side continued by its best child down to a leaf as stored in the tree.
/// </summary>
public static class PlvPairs
{
    public static PlvPairSet FromTrees(IEnumerable<PreferenceTree> trees, PromptLibrary prompts, ITextTokenizer tokenizer, Func<TreeNode, double?> value,
        double margin, int maxLength)
    {
        var options = StepPairOptions.TreePlv with { Value = value, MinMargin = margin, Continuation = ContinuationMode.BestChildToLeaf };
        int count = 0, tooLong = 0, empty = 0;
        var pairs = new List<PlvPair>();
        foreach (var tree in trees.Where(t => t.Status == TreeStatus.Completed))
        {
            count++;
            string? head = null;
            foreach (var pair in TreeViews.StepPairs(tree, options))
            {
                head ??= prompts.RenderSolve(tree.Problem, StepPairData.IsBare(tree));
                var prompt = tokenizer.Encode(PromptText.State(head, pair.PrefixSteps));
                var example = new PlvPair(tree.Problem.Id, prompt,
                    ScorerEngine.StepPieces(tokenizer, pair.Chosen.Steps, PreferenceTree.StepDelimiter),
                    ScorerEngine.StepPieces(tokenizer, pair.Rejected.Steps, PreferenceTree.StepDelimiter));
                if (example.Compared == 0 || example.Chosen.Take(example.Compared).Any(p => p.Length == 0) || example.Rejected.Take(example.Compared).Any(p => p.Length == 0)) empty++;
                else if (example.Length > maxLength) tooLong++;
                else pairs.Add(example);
            }
        }
        return new PlvPairSet(pairs, count, tooLong, empty);
    }
}
