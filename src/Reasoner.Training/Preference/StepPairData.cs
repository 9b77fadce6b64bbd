using Reasoner.Core.Export;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Batching;

namespace Reasoner.Training.Preference;

/// <summary>
/// One side of a step pair as the policy produced it: the step (and its continuation) joined by the family's delimiter,
/// then what ended the last step. A step the solution goes on after ended at the delimiter. A bare-prompted model
/// (trained on the tasks' own format) ends a finished solution with end-of-sequence (<see cref="EndsWithEos"/>); a
/// few-shot-prompted one stops at the delimiter there too. A solution cut off by a limit gets neither: the model never
/// chose to stop there.
/// </summary>
public sealed record PairSide(string Text, bool EndsWithEos, int Visits);

/// <summary>A step pair in the policy's own words: its prompt up to the shared parent, and the two sides.</summary>
public sealed record PreferenceText(string ProblemId, string Prompt, PairSide Chosen, PairSide Rejected);

/// <summary>A step pair in token ids: the prompt's own tokens, then each side's own (as a sampled completion has them).</summary>
public sealed record TokenizedPair(string ProblemId, int[] Prompt, int[] Chosen, int[] Rejected, int ChosenVisits, int RejectedVisits)
{
    public TrainingSequence ChosenSequence => new([.. Prompt, .. Chosen], Prompt.Length);

    public TrainingSequence RejectedSequence => new([.. Prompt, .. Rejected], Prompt.Length);

    public int Length => Prompt.Length + Math.Max(Chosen.Length, Rejected.Length);
}

/// <summary>Step pairs from stored trees, with the prompt text the search's policy saw (trainers must train on that text).</summary>
public static class StepPairData
{
    /// <summary>Whether the tree's solutions open with the bare prompt (true) or the family's few-shot prompt (false).</summary>
    public static bool IsBare(PreferenceTree tree)
    {
        var style = tree.Search.Settings.GetValueOrDefault(SolvePromptStyles.Setting);
        return SolvePromptStyles.Parse(style) switch
        {
            SolvePromptStyle.Bare => true,
            SolvePromptStyle.FewShot => false,
            _ => throw new InvalidDataException($"tree of problem {tree.Problem.Id}: setting '{SolvePromptStyles.Setting}' is '{style ?? "missing"}', expected {SolvePromptStyles.Bare} or {SolvePromptStyles.FewShot}"),
        };
    }

    /// <summary>The pairs of one completed tree (none from a failed one).</summary>
    public static IEnumerable<PreferenceText> FromTree(PreferenceTree tree, PromptLibrary prompts, StepPairOptions options)
    {
        if (tree.Status != TreeStatus.Completed) yield break;
        var delimiter = PreferenceTree.StepDelimiter;
        string? head = null;
        bool bare = false;
        foreach (var pair in TreeViews.StepPairs(tree, options))
        {
            if (head is null)
            {
                bare = IsBare(tree);
                head = prompts.RenderSolve(tree.Problem, bare);
            }
            // The state text search continued: solve prompt, then each step closed by the delimiter (SearchSession.StateText).
            yield return new PreferenceText(tree.Problem.Id, PromptText.State(head, pair.PrefixSteps),
                Side(tree, pair.Chosen, delimiter, bare), Side(tree, pair.Rejected, delimiter, bare));
        }
    }

    private static PairSide Side(PreferenceTree tree, ScoredStep step, string delimiter, bool bare)
    {
        var last = tree.Nodes[step.LastNodeId];
        var text = string.Join(delimiter, step.Steps);
        bool finished = last.IsTerminal && !last.Truncated;
        if (!last.IsTerminal || (finished && !bare)) text += delimiter;
        return new PairSide(text, finished && bare, step.Visits);
    }

    public static TokenizedPair Tokenize(PreferenceText pair, ITextTokenizer tokenizer)
    {
        int[] Encode(PairSide side) => side.EndsWithEos ? [.. tokenizer.Encode(side.Text), tokenizer.EosId] : tokenizer.Encode(side.Text);
        return new TokenizedPair(pair.ProblemId, tokenizer.Encode(pair.Prompt), Encode(pair.Chosen), Encode(pair.Rejected),
            pair.Chosen.Visits, pair.Rejected.Visits);
    }
}

/// <summary>The step pairs of some trees in tokens, with what was left out and why.</summary>
public sealed record StepPairSet(IReadOnlyList<TokenizedPair> Pairs, int Texts, int TooLong, int Empty)
{
    /// <summary>Every pair the options give, tokenized; pairs with an empty side, or longer than <paramref name="maxLength"/> tokens, are left out.</summary>
    public static StepPairSet Build(IEnumerable<PreferenceTree> trees, PromptLibrary prompts, StepPairOptions options, ITextTokenizer tokenizer, int maxLength)
    {
        int texts = 0, tooLong = 0, empty = 0;
        var kept = new List<TokenizedPair>();
        foreach (var text in trees.SelectMany(tree => StepPairData.FromTree(tree, prompts, options)))
        {
            texts++;
            var pair = StepPairData.Tokenize(text, tokenizer);
            if (pair.Chosen.Length == 0 || pair.Rejected.Length == 0) empty++;
            else if (pair.Length > maxLength) tooLong++;
            else kept.Add(pair);
        }
        return new StepPairSet(kept, texts, tooLong, empty);
    }
}
