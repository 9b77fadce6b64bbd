using Reasoner.Core.Answers;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Framework;
using Reasoner.Training.Preference;

namespace Reasoner.Training.Onpo;

/// <summary>A round's pairs in tokens (winner as chosen), with what was left out and why.</summary>
public sealed record OnpoPairSet(IReadOnlyList<TokenizedPair> Pairs, int Problems, int Ties, int TooLong)
{
    /// <summary>One solution a pair may take: what the oracle sees, the policy's tokens, and its visits in the tree (0 when sampled).</summary>
    private sealed record Candidate(OracleSolution Seen, int[] Tokens, int Visits);

    /// <summary>
    /// D_t of Algorithm 1 (steps 4–5) from stored trees: up to K finished solutions per problem (the terminals of its
    /// tree, sampled by π_t, a seeded subset when there are more), paired as <see cref="Builder"/> says.
    /// </summary>
    public static async Task<OnpoPairSet> BuildAsync(IEnumerable<PreferenceTree> trees, PromptLibrary prompts, ITextTokenizer tokenizer, IPreferenceOracle oracle,
        OnpoSettings settings, CancellationToken cancel = default)
    {
        var random = new Random(settings.Seed);
        var builder = new Builder(oracle, settings, random);
        foreach (var tree in trees.Where(t => t.Status == TreeStatus.Completed))
        {
            var terminals = tree.Terminals.Where(t => !t.IsRoot).OrderBy(t => t.Id).ToArray();
            if (terminals.Length < 2) continue;
            if (terminals.Length > settings.Samples)
            {
                random.Shuffle(terminals);
                terminals = terminals.Take(settings.Samples).OrderBy(t => t.Id).ToArray();
            }
            bool bare = StepPairData.IsBare(tree);
            var candidates = terminals.Select(t => new Candidate(
                new OracleSolution(PromptLibrary.FormatQuestion(tree.Problem), tree.StepsText(t), t.IsTerminal && !t.Truncated ? t.IsCorrect : false) { Problem = tree.Problem },
                SolutionTokens.Encode(tree, t.Id, PreferenceTree.StepDelimiter, bare, tokenizer), t.Visits)).ToArray();
            await builder.AddAsync(tree.Problem.Id, tokenizer.Encode(prompts.RenderSolve(tree.Problem, bare)), candidates, cancel);
        }
        return builder.Result();
    }

    /// <summary>
    /// D_t from fresh samples of π_t: each problem's K sampled solutions as drawn (their tokens, end-of-sequence included),
    /// one cut off by the token limit judged wrong, paired as <see cref="Builder"/> says.
    /// </summary>
    public static async Task<OnpoPairSet> FromSamplesAsync(IReadOnlyList<SampledSolutions> samples, Func<Problem, string> prompt, ITextTokenizer tokenizer,
        IPreferenceOracle oracle, OnpoSettings settings, CancellationToken cancel = default)
    {
        var builder = new Builder(oracle, settings, new Random(settings.Seed));
        foreach (var problem in samples.Where(s => s.Solutions.Count >= 2))
        {
            var candidates = problem.Solutions.Select(c =>
            {
                var check = AnswerChecker.Check(c.Text, problem.Problem);
                bool? correct = c.Finish == FinishReason.Length ? false : check.Extracted is null ? null : check.IsCorrect;
                return new Candidate(new OracleSolution(PromptLibrary.FormatQuestion(problem.Problem), c.Text, correct) { Problem = problem.Problem }, [.. c.TokenIds], 0);
            }).ToArray();
            await builder.AddAsync(problem.Problem.Id, tokenizer.Encode(prompt(problem.Problem)), candidates, cancel);
        }
        return builder.Result();
    }

    /// <summary>
    /// For each pair (y, y′) of a problem's solutions the oracle's preference p = P(y ≻ y′), asked once per unordered
    /// pair; the pair's order is drawn as λ_p draws it (y wins with probability p). All pairs but ties, or the oracle's
    /// best against its worst (most and fewest expected wins against the others) when the best wins.
    /// </summary>
    private sealed class Builder(IPreferenceOracle oracle, OnpoSettings settings, Random random)
    {
        private readonly List<TokenizedPair> pairs = [];
        private int problems, ties, tooLong;

        public async Task AddAsync(string problemId, int[] prompt, Candidate[] solutions, CancellationToken cancel)
        {
            problems++;
            int n = solutions.Length;
            var p = new double[n, n];
            for (int i = 0; i < n; i++)
            {
                p[i, i] = 0.5;
                for (int j = i + 1; j < n; j++)
                {
                    p[i, j] = await oracle.PreferAsync(solutions[i].Seen, solutions[j].Seen, cancel);
                    p[j, i] = 1 - p[i, j];
                }
            }

            IEnumerable<(int, int)> candidates = settings.Pairs == OnpoPairs.All
                ? from i in Enumerable.Range(0, n) from j in Enumerable.Range(i + 1, n - i - 1) select (i, j)
                : BestVsWorst(p, n);
            foreach (var (i, j) in candidates)
            {
                if (p[i, j] == 0.5) { ties++; continue; }
                bool firstWins = random.NextDouble() < p[i, j];
                if (settings.Pairs == OnpoPairs.BestVsWorst && !firstWins) continue;
                var (w, l) = firstWins ? (solutions[i], solutions[j]) : (solutions[j], solutions[i]);
                if (w.Tokens.Length == 0 || l.Tokens.Length == 0) continue;
                var pair = new TokenizedPair(problemId, prompt, w.Tokens, l.Tokens, w.Visits, l.Visits);
                if (pair.Length > settings.MaxLength) tooLong++;
                else pairs.Add(pair);
            }
        }

        public OnpoPairSet Result() => new(pairs, problems, ties, tooLong);
    }

    /// <summary>The solution with the most expected wins against the others, and the one with the fewest (INPO's tournament, in expectation).</summary>
    private static IEnumerable<(int, int)> BestVsWorst(double[,] p, int n)
    {
        var wins = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Where(j => j != i).Sum(j => p[i, j])).ToArray();
        int best = Array.IndexOf(wins, wins.Max()), worst = Array.LastIndexOf(wins, wins.Min());
        if (best != worst) yield return (best, worst);
    }
}
