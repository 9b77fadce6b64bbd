using Reasoner.Core.Export;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Batching;
using Reasoner.Training.Preference;

namespace Reasoner.Training.Tpo;

/// <summary>One branch of a list in tokens: its steps one after another, how many tokens each step has, and its value.</summary>
public sealed record TokenizedBranch(int[] Tokens, int[] StepLengths, double Value);

/// <summary>A TPO list in tokens: the shared prompt (solve prompt and the steps before the branching node) and its branches, best first.</summary>
public sealed record TokenizedList(string ProblemId, int[] Prompt, IReadOnlyList<TokenizedBranch> Branches)
{
    public int Length => Prompt.Length + Branches.Max(b => b.Tokens.Length);

    public IEnumerable<TrainingSequence> Sequences => Branches.Select(b => new TrainingSequence([.. Prompt, .. b.Tokens], Prompt.Length));
}

/// <summary>The lists of some trees in tokens, with what was left out and why.</summary>
public sealed record TpoListSet(IReadOnlyList<TokenizedList> Lists, int Nodes, int TooShort, int TooLong);

/// <summary>
/// TPO's lists from preference trees: at every node with at least <see cref="TpoSettings.MinListSize"/> children, the
/// children as branches, each continued by its best child down to a leaf. A branch whose leaf is not a terminal is
/// not a solution and is dropped. Each branch is scored by the run's ranking value at its first step, or its outcome
/// when that step ends the solution.
/// </summary>
public static class TpoLists
{
    public static TpoListSet Build(IEnumerable<PreferenceTree> trees, PromptLibrary prompts, Func<TreeNode, double?> value, ITextTokenizer tokenizer,
        int minListSize, int maxLength)
    {
        int nodes = 0, tooShort = 0, tooLong = 0;
        var lists = new List<TokenizedList>();
        Func<TreeNode, double?> score = n => n.IsTerminal && n.Outcome is { } outcome ? outcome : value(n);
        foreach (var tree in trees.Where(t => t.Status == TreeStatus.Completed))
        {
            var options = new SiblingListOptions { Value = score, MinListSize = minListSize, Continuation = ContinuationMode.BestChildToLeaf };
            foreach (var siblings in TreeViews.SiblingLists(tree, options))
            {
                nodes++;
                var branches = siblings.BestFirst.Where(b => tree.Nodes[b.LastNodeId].IsTerminal).ToList();
                var list = branches.Count < minListSize ? null : Tokenize(tree, prompts, siblings.PrefixSteps, branches, tokenizer);
                // An empty branch (an empty step that ended the solution at a limit) has no tokens to rank.
                if (list is null || list.Branches.Count(b => b.Tokens.Length > 0) < minListSize) { tooShort++; continue; }
                list = list with { Branches = [.. list.Branches.Where(b => b.Tokens.Length > 0)] };
                if (list.Length > maxLength) tooLong++;
                else lists.Add(list);
            }
        }
        return new TpoListSet(lists, nodes, tooShort, tooLong);
    }

    /// <summary>
    /// The text the policy saw and wrote: the solve prompt and the prefix steps each closed by the delimiter, then each
    /// branch step by step as search sampled them (each closed by the delimiter, a finished bare-prompted solution by
    /// end-of-sequence, a cut-off one by nothing), as <see cref="StepPairData"/> writes pair sides.
    /// </summary>
    private static TokenizedList Tokenize(PreferenceTree tree, PromptLibrary prompts, IReadOnlyList<string> prefix, IReadOnlyList<ScoredStep> branches, ITextTokenizer tokenizer)
    {
        var delimiter = PreferenceTree.StepDelimiter;
        bool bare = StepPairData.IsBare(tree);
        var prompt = tokenizer.Encode(PromptText.State(prompts.RenderSolve(tree.Problem, bare), prefix));
        var tokenized = branches.Select(branch =>
        {
            var pieces = SolutionTokens.Steps(branch.Steps, tree.Nodes[branch.LastNodeId], delimiter, bare, tokenizer);
            return new TokenizedBranch([.. pieces.SelectMany(p => p)], [.. pieces.Select(p => p.Length)], branch.Value);
        }).ToList();
        return new TokenizedList(tree.Problem.Id, prompt, tokenized);
    }
}
