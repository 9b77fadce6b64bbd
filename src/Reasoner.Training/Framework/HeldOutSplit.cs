namespace Reasoner.Training.Framework;

/// <summary>Training and held-out examples, split by problem.</summary>
public sealed record HeldOutSplit<T>(IReadOnlyList<T> Train, IReadOnlyList<T> Eval, int EvalProblems);

public static class HeldOutSplit
{
    /// <summary>
    /// Holds out whole problems (a seeded share of them), so that held-out figures measure problems the policy was not
    /// trained on: siblings of one tree share their prefix and would leak it otherwise.
    /// </summary>
    public static HeldOutSplit<T> ByProblem<T>(IReadOnlyList<T> examples, Func<T, string> problemId, double fraction, int seed)
    {
        var problems = examples.Select(problemId).Distinct().Order(StringComparer.Ordinal).ToArray();
        new Random(seed).Shuffle(problems);
        var held = problems.Take((int)Math.Round(problems.Length * fraction)).ToHashSet();
        return new HeldOutSplit<T>(examples.Where(e => !held.Contains(problemId(e))).ToArray(), examples.Where(e => held.Contains(problemId(e))).ToArray(), held.Count);
    }
}
