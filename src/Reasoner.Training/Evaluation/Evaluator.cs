using Reasoner.Core.Trees;
using Reasoner.Core.Answers;
using Reasoner.Core.Judging;
using Reasoner.Core.Statistics;
using Reasoner.Core.Problems;
using Reasoner.Models.Backends;

namespace Reasoner.Training.Evaluation;

public sealed record EvalSettings
{
    /// <summary>k of pass@k and maj@k.</summary>
    public int K { get; init; } = 16;

    /// <summary>Samples drawn per problem (n >= k); more than k makes pass@k the unbiased estimate.</summary>
    public int Samples { get; init; } = 16;

    public double Temperature { get; init; } = 1.0;

    public double TopP { get; init; } = 1.0;

    public int MaxTokens { get; init; } = 256;

    public long Seed { get; init; } = 1234;

    /// <summary>Generation also stops at these strings (EOS always stops it).</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    public void Validate()
    {
        if (K < 1 || Samples < K) throw new ArgumentException($"need 1 <= k <= samples, got k={K}, samples={Samples}");
        if (Temperature < 0 || TopP is <= 0 or > 1 || MaxTokens < 1) throw new ArgumentException("need temperature >= 0, 0 < top-p <= 1 and max tokens >= 1");
    }
}

/// <summary>
/// One problem's results: the greedy solution, and n samples judged one by one. <see cref="GreedySound"/> says, for a
/// correct greedy solution of a built-in task, whether every step of it is sound by the gold step labels (null where
/// the greedy answer is wrong or the task has no gold labels).
/// </summary>
public sealed record ProblemOutcome(string ProblemId, string GreedyText, string? GreedyAnswer, bool GreedyCorrect, bool? GreedySound,
    IReadOnlyList<string?> SampleAnswers, int CorrectSamples, double PassAtK, string? MajorityAnswer, bool MajorityCorrect);

/// <summary>A measured share with its 95 % interval.</summary>
public sealed record Estimate(double Value, Interval Interval);

/// <summary>
/// Accuracies over a problem set, as fractions in [0,1], with 95 % intervals: Wilson's for greedy accuracy and maj@k
/// (one yes/no per problem), a bootstrap over problems for pass@k and sample accuracy (per-problem fractions).
/// <see cref="SoundGreedy"/> is the share of correct greedy solutions whose every step is gold-sound, where known.
/// </summary>
public sealed record EvalSummary(int Problems, int K, int Samples, Estimate Greedy, Estimate PassAtK, Estimate MajorityAtK, Estimate SampleAccuracy,
    SoundShare? SoundGreedy)
{
    public static EvalSummary From(IReadOnlyList<ProblemOutcome> outcomes, int k, int samples)
    {
        int n = outcomes.Count;
        int greedy = outcomes.Count(o => o.GreedyCorrect), majority = outcomes.Count(o => o.MajorityCorrect);
        var passAtK = outcomes.Select(o => o.PassAtK).ToList();
        var sampleAccuracy = outcomes.Select(o => (double)o.CorrectSamples / Math.Max(1, o.SampleAnswers.Count)).ToList();
        var judged = outcomes.Where(o => o.GreedySound is not null).ToList();
        return new EvalSummary(n, k, samples,
            new Estimate(Share(greedy, n), Intervals.Wilson(greedy, n)),
            new Estimate(n == 0 ? 0 : passAtK.Average(), Intervals.BootstrapMean(passAtK)),
            new Estimate(Share(majority, n), Intervals.Wilson(majority, n)),
            new Estimate(n == 0 ? 0 : sampleAccuracy.Average(), Intervals.BootstrapMean(sampleAccuracy)),
            judged.Count == 0 ? null : new SoundShare(judged.Count, judged.Count(o => o.GreedySound == true)));
    }

    private static double Share(int count, int n) => n == 0 ? 0 : (double)count / n;
}

/// <summary>Of the correct greedy solutions gold labels can judge, how many have every step sound.</summary>
public sealed record SoundShare(int CorrectGreedy, int Sound)
{
    public Estimate Share => new(CorrectGreedy == 0 ? 0 : (double)Sound / CorrectGreedy, Intervals.Wilson(Sound, CorrectGreedy));
}

/// <summary>
/// Greedy accuracy, pass@k and maj@k of a language model on problems, through <see cref="ILanguageModel"/> only,
/// so every backend is measured the same way. Problem i samples with seed Seed + i, so results do not depend on
/// which other problems are evaluated alongside.
/// </summary>
public sealed class Evaluator(ILanguageModel model, Func<Problem, string> prompt, EvalSettings settings)
{
    public async Task<ProblemOutcome> EvaluateAsync(Problem problem, int index, CancellationToken cancel = default)
    {
        settings.Validate();
        var (greedy, greedyCheck) = await GreedyAsync(problem, index, cancel);
        var samples = await model.CompleteAsync(Request(prompt(problem), settings.Samples, settings.Temperature, index), cancel);
        var checks = samples.Select(s => AnswerChecker.Check(s.Text, problem)).ToArray();
        int correct = checks.Count(c => c.IsCorrect);
        // maj@k votes over the first k samples, the same k that pass@k is about.
        var majority = MajorityVote.Winner(checks.Take(settings.K).Select(c => c.Extracted), problem.Kind);
        return new ProblemOutcome(problem.Id, greedy, greedyCheck.Extracted, greedyCheck.IsCorrect, greedyCheck.IsCorrect ? GoldSound(problem, greedy) : null,
            checks.Select(c => c.Extracted).ToArray(), correct, PassAtK.Estimate(checks.Length, correct, settings.K),
            majority, majority is not null && AnswerChecker.IsEquivalent(majority, problem.Answer, problem.Kind));
    }

    /// <summary>
    /// The greedy solution of a problem and its check. Every greedy accuracy in the project (eval, the monitor during
    /// pretraining, bench search's baseline) goes through here, so they measure the same thing.
    /// </summary>
    public async Task<(string Text, AnswerCheck Check)> GreedyAsync(Problem problem, int index = 0, CancellationToken cancel = default)
    {
        var text = (await model.CompleteAsync(Request(prompt(problem), 1, 0.0, index), cancel))[0].Text;
        return (text, AnswerChecker.Check(text, problem));
    }

    /// <summary>Whether every step of a solution is sound by gold step labels; null for tasks without them.</summary>
    public static bool? GoldSound(Problem problem, string solution)
    {
        if (!StepJudges.Supports(problem.Family) || problem.ReferenceSteps is null) return null;
        var delimiter = PreferenceTree.StepDelimiter;
        var steps = solution.Split(delimiter).Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim());
        return StepJudges.For(problem).JudgeSolution(steps).All(j => j.IsSound);
    }

    private CompletionRequest Request(string prompt, int n, double temperature, int index) =>
        new(prompt, n, settings.MaxTokens) { Temperature = temperature, TopP = settings.TopP, Seed = settings.Seed + index, Stop = settings.Stop };
}
