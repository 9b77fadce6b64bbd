using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Preference;

namespace Reasoner.Training.Oreo;

/// <summary>A whole solution as OREO learns from it: the solve prompt, each step in the policy's tokens, and the sparse reward.</summary>
public sealed record OreoPath(string ProblemId, int[] Prompt, IReadOnlyList<int[]> Steps, double Reward)
{
    public int Length => Prompt.Length + Steps.Sum(s => s.Length);
}

/// <summary>The paths of some trees in tokens, with what was left out and why.</summary>
public sealed record OreoPathSet(IReadOnlyList<OreoPath> Paths, int Trees, int TooLong);

/// <summary>
/// OREO's data from stored trees: every root-to-terminal path (<see cref="TreeViews.Paths"/>), reward 1 for a right
/// answer and 0 otherwise, at most <see cref="OreoSettings.MaxPaths"/> per problem (balanced between right and wrong as
/// far as the tree allows, the 7B recipe's rule), each step in tokens as search sampled it.
/// </summary>
public static class OreoPaths
{
    public static OreoPathSet FromTrees(IEnumerable<PreferenceTree> trees, PromptLibrary prompts, ITextTokenizer tokenizer, OreoSettings settings)
    {
        var random = new Random(settings.Seed);
        int count = 0, tooLong = 0;
        var paths = new List<OreoPath>();
        foreach (var tree in trees.Where(t => t.Status == TreeStatus.Completed))
        {
            count++;
            var all = TreeViews.Paths(tree, new PathOptions()).ToArray();
            random.Shuffle(all);
            var right = all.Where(p => p.Reward > 0).ToList();
            var wrong = all.Where(p => p.Reward <= 0).ToList();
            int half = settings.MaxPaths / 2;
            int takeRight = Math.Min(right.Count, Math.Max(half, settings.MaxPaths - wrong.Count));
            var kept = right.Take(takeRight).Concat(wrong.Take(settings.MaxPaths - takeRight)).ToList();
            bool bare = StepPairData.IsBare(tree);
            var prompt = tokenizer.Encode(prompts.RenderSolve(tree.Problem, bare));
            foreach (var path in kept)
            {
                var steps = SolutionTokens.Steps(path.StepTexts, path.Leaf, PreferenceTree.StepDelimiter, bare, tokenizer);
                var example = new OreoPath(tree.Problem.Id, prompt, steps, path.Reward);
                if (example.Length > settings.MaxLength) tooLong++;
                else if (steps.All(s => s.Length > 0)) paths.Add(example);
            }
        }
        return new OreoPathSet(paths, count, tooLong);
    }
}
