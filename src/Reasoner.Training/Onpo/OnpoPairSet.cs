using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Preference;

namespace Reasoner.Training.Onpo;

/// <summary>A round's pairs in tokens (winner as chosen), with what was left out and why.</summary>
public sealed record OnpoPairSet(IReadOnlyList<TokenizedPair> Pairs, int Problems, int Ties, int TooLong)
{
    /// <summary>
    /// D_t of Algorithm 1 (steps 4–5): up to K finished solutions per problem (the terminals of its tree, sampled by
    /// π_t, a seeded subset when there are more), and for each pair (y, y′) the oracle's preference p = P(y ≻ y′); the
    /// pair's order is drawn as λ_p draws it (y wins with probability p). All pairs but ties, or the oracle's best
    /// against its worst (most and fewest expected wins against the others) when the best wins.
    /// </summary>
    public static async Task<OnpoPairSet> BuildAsync(IEnumerable<PreferenceTree> trees, PromptLibrary prompts, ITextTokenizer tokenizer, IPreferenceOracle oracle,
        OnpoSettings settings, CancellationToken cancel = default)
    {
        var random = new Random(settings.Seed);
        var pairs = new List<TokenizedPair>();
        int problems = 0, ties = 0, tooLong = 0;
        foreach (var tree in trees.Where(t => t.Status == TreeStatus.Completed))
        {
            var terminals = tree.Terminals.Where(t => !t.IsRoot).OrderBy(t => t.Id).ToArray();
            if (terminals.Length < 2) continue;
            problems++;
            if (terminals.Length > settings.Samples)
            {
                random.Shuffle(terminals);
                terminals = terminals.Take(settings.Samples).OrderBy(t => t.Id).ToArray();
            }
            var delimiter = PreferenceTree.StepDelimiter;
            bool bare = StepPairData.IsBare(tree);
            var seen = terminals.Select(t => new OracleSolution(PromptLibrary.FormatQuestion(tree.Problem), tree.StepsText(t), t.IsTerminal && !t.Truncated ? t.IsCorrect : false)).ToArray();
            var tokens = terminals.Select(t => SolutionTokens.Encode(tree, t.Id, delimiter, bare, tokenizer)).ToArray();
            var prompt = tokenizer.Encode(prompts.RenderSolve(tree.Problem, bare));
            int n = terminals.Length;
            // The oracle is asked once per unordered pair; P(j ≻ i) = 1 − P(i ≻ j).
            var p = new double[n, n];
            for (int i = 0; i < n; i++)
            {
                p[i, i] = 0.5;
                for (int j = i + 1; j < n; j++)
                {
                    p[i, j] = await oracle.PreferAsync(seen[i], seen[j], cancel);
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
                var (w, l) = firstWins ? (i, j) : (j, i);
                if (tokens[w].Length == 0 || tokens[l].Length == 0) continue;
                var pair = new TokenizedPair(tree.Problem.Id, prompt, tokens[w], tokens[l], terminals[w].Visits, terminals[l].Visits);
                if (pair.Length > settings.MaxLength) tooLong++;
                else pairs.Add(pair);
            }
        }
        return new OnpoPairSet(pairs, problems, ties, tooLong);
    }

    /// <summary>The solution with the most expected wins against the others, and the one with the fewest (INPO's tournament, in expectation).</summary>
    private static IEnumerable<(int, int)> BestVsWorst(double[,] p, int n)
    {
        var wins = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Where(j => j != i).Sum(j => p[i, j])).ToArray();
        int best = Array.IndexOf(wins, wins.Max()), worst = Array.LastIndexOf(wins, wins.Min());
        if (best != worst) yield return (best, worst);
    }
}
