using System.Text.Json.Serialization;
using Reasoner.Core.Answers;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Batching;
using Reasoner.Training.Framework;
using Reasoner.Training.Preference;

namespace Reasoner.Training.Trpa;

/// <summary>One whole solution in tokens with its preference level (1 best).</summary>
/// <param name="SamplingLogProbs">log π_old of each token, recorded by the policy that sampled it; null for stored trees,
/// whose searching policy is the starting one, so the reference pass gives them.</param>
public sealed record LeveledSolution(int[] Tokens, int Level, float[]? SamplingLogProbs = null);

/// <summary>A problem's solutions: the solve prompt in tokens, and each solution after it.</summary>
public sealed record SolutionGroup(string ProblemId, int[] Prompt, IReadOnlyList<LeveledSolution> Solutions)
{
    [JsonIgnore]
    public int Length => Prompt.Length + Solutions.Max(s => s.Tokens.Length);

    [JsonIgnore]
    public IEnumerable<TrainingSequence> Sequences => Solutions.Select(s => new TrainingSequence([.. Prompt, .. s.Tokens], Prompt.Length));
}

/// <summary>The groups of some trees in tokens, with what was left out and why.</summary>
public sealed record SolutionGroupSet(IReadOnlyList<SolutionGroup> Groups, int Trees, int TooSmall, int TooLong);

/// <summary>
/// TRPA's groups from stored trees: every finished root-to-terminal solution of a tree (<see cref="TreeViews.PreferenceLevels"/>),
/// at most <see cref="TrpaSettings.GroupSize"/> of them (a seeded sample), each at its rule-based level.
/// </summary>
public static class TrpaGroups
{
    public static SolutionGroupSet FromTrees(IEnumerable<PreferenceTree> trees, PromptLibrary prompts, ITextTokenizer tokenizer, TrpaSettings settings)
    {
        int count = 0, tooSmall = 0, tooLong = 0;
        var groups = new List<SolutionGroup>();
        var random = new Random(settings.Seed);
        foreach (var tree in trees.Where(t => t.Status == TreeStatus.Completed))
        {
            count++;
            var paths = TreeViews.PreferenceLevels(tree).BestFirst.ToArray();
            if (paths.Length > settings.GroupSize)
            {
                random.Shuffle(paths);
                paths = paths.Take(settings.GroupSize).ToArray();
            }
            var delimiter = PreferenceTree.StepDelimiter;
            bool bare = StepPairData.IsBare(tree);
            var solutions = paths
                .Select(p => new LeveledSolution(SolutionTokens.Encode(tree, p.TerminalId, delimiter, bare, tokenizer), settings.Levels[(int)p.Level - 1]))
                .Where(s => s.Tokens.Length > 0)
                .ToList();
            if (solutions.Count < 2) { tooSmall++; continue; }
            var group = new SolutionGroup(tree.Problem.Id, tokenizer.Encode(prompts.RenderSolve(tree.Problem, bare)), solutions);
            if (group.Length > settings.MaxLength) tooLong++;
            else groups.Add(group);
        }
        return new SolutionGroupSet(groups, count, tooSmall, tooLong);
    }

    /// <summary>
    /// TRPA's on-policy groups: each problem's sampled solutions as drawn (their tokens, end-of-sequence included, and the
    /// sampler's log-probabilities), at the level <see cref="TreeViews.LevelOf(bool, string?, bool?)"/> gives them: cut off by
    /// the token limit, no answer, wrong, right.
    /// </summary>
    /// <param name="prompt">The solve prompt the samples continued.</param>
    public static IReadOnlyList<SolutionGroup> FromSamples(IReadOnlyList<SampledSolutions> samples, Func<Problem, string> prompt, ITextTokenizer tokenizer, TrpaSettings settings) =>
        samples.Select(p => new SolutionGroup(p.Problem.Id, tokenizer.Encode(prompt(p.Problem)), p.Solutions.Select(c =>
        {
            var check = AnswerChecker.Check(c.Text, p.Problem);
            var level = TreeViews.LevelOf(c.Finish == Models.Backends.FinishReason.Length, check.Extracted, check.Extracted is null ? null : check.IsCorrect);
            return new LeveledSolution([.. c.TokenIds], settings.Levels[(int)level - 1], [.. c.TokenLogProbs.Select(l => (float)l)]);
        }).ToArray())).ToArray();
}
