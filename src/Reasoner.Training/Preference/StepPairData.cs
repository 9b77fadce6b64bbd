using Reasoner.Core.Export;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Batching;

namespace Reasoner.Training.Preference;

/// <summary>
/// One side of a step pair as the policy would have produced it: the step (and its continuation) joined by the
/// delimiter, then the delimiter again when the solution goes on after it, or end-of-sequence when the last step
/// ended the solution. A solution cut off by a limit gets neither: the model never chose to stop there.
/// </summary>
public sealed record PairSide(string Text, bool EndsSolution, int Visits);

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
    /// <summary>The tree setting that says which solve prompt opened its solutions (written by the search's world).</summary>
    public const string SolvePromptSetting = "world.solvePrompt";

    /// <summary>The solve prompt every solution in <paramref name="tree"/> continues.</summary>
    public static string SolvePrompt(PreferenceTree tree, PromptLibrary prompts)
    {
        var style = tree.Search.Settings.GetValueOrDefault(SolvePromptSetting);
        return style switch
        {
            "bare" => prompts.RenderSolve(tree.Problem, bare: true),
            "few-shot" => prompts.RenderSolve(tree.Problem, bare: false),
            _ => throw new InvalidDataException($"tree of problem {tree.Problem.Id}: setting '{SolvePromptSetting}' is '{style ?? "missing"}', expected bare or few-shot"),
        };
    }

    /// <summary>The pairs of one completed tree (none from a failed one).</summary>
    public static IEnumerable<PreferenceText> FromTree(PreferenceTree tree, PromptLibrary prompts, StepPairOptions options)
    {
        if (tree.Status != TreeStatus.Completed) yield break;
        string? head = null;
        foreach (var pair in TreeViews.StepPairs(tree, options))
        {
            head ??= SolvePrompt(tree, prompts);
            yield return new PreferenceText(tree.Problem.Id, PromptText.WithPrefix(_ => head, tree.Problem, pair.PrefixSteps),
                Side(tree, pair.Chosen), Side(tree, pair.Rejected));
        }
    }

    private static PairSide Side(PreferenceTree tree, ScoredStep step)
    {
        var last = tree.Nodes[step.LastNodeId];
        var text = PromptText.Completion(step.Steps);
        if (!last.IsTerminal) text += PreferenceTree.StepDelimiter;
        return new PairSide(text, last.IsTerminal && !last.Truncated, step.Visits);
    }

    public static TokenizedPair Tokenize(PreferenceText pair, ITextTokenizer tokenizer)
    {
        int[] Encode(PairSide side) => side.EndsSolution ? [.. tokenizer.Encode(side.Text), tokenizer.EosId] : tokenizer.Encode(side.Text);
        return new TokenizedPair(pair.ProblemId, tokenizer.Encode(pair.Prompt), Encode(pair.Chosen), Encode(pair.Rejected),
            pair.Chosen.Visits, pair.Rejected.Visits);
    }
}
