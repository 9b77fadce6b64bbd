using Reasoner.Core.Trees;
using Reasoner.Core.Answers;
using Reasoner.Core.Judging;
using Reasoner.Core.Statistics;
using Reasoner.Core.Problems;
using Reasoner.Models.Backends;

namespace Reasoner.Training.Evaluation;

public sealed record EvalSettings
{
    /// <summary>k of pass@k and maj@k; 0 for greedy accuracy alone (no samples drawn).</summary>
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
        if (K < 0 || Samples < K || (K == 0 && Samples != 0))
            throw new ArgumentException($"need 0 <= k <= samples (k = 0: greedy only, no samples), got k={K}, samples={Samples}");
        if (Temperature < 0 || TopP is <= 0 or > 1 || MaxTokens < 1) throw new ArgumentException("need temperature >= 0, 0 < top-p <= 1 and max tokens >= 1");
    }
}

/// <summary>
/// One problem's results: the greedy solution, and n samples judged one by one. <see cref="GreedySound"/> says, for a
/// correct greedy solution of a built-in task, whether every step of it is sound by the gold step labels (null where
/// the greedy answer is wrong or the task has no gold labels).
/// </summary>
public sealed record ProblemOutcome(string ProblemId, string GreedyText, string? GreedyAnswer, bool GreedyCorrect, bool? GreedySound,
    IReadOnlyList<string?> SampleAnswers, int CorrectSamples, double PassAtK, string? MajorityAnswer, bool MajorityCorrect)
{
    /// <summary>With a verifier: whether the sample it scores highest is right.</summary>
    public bool? VerifierCorrect { get; init; }

    /// <summary>On built-in tasks with a verifier: whether the sample gold step labels would pick (the first with every step sound) is right.</summary>
    public bool? OracleCorrect { get; init; }

    /// <summary>With a beam: whether step beam search scored by the model's own self-evaluation answered right.</summary>
    public bool? BeamCorrect { get; init; }

    /// <summary>With a beam and a value model: whether value-guided step beam search answered right.</summary>
    public bool? ValueBeamCorrect { get; init; }
}

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
    /// <summary>Best-of-n accuracy by the verifier (Wilson), where it reranked.</summary>
    public Estimate? VerifierBestOfN { get; init; }

    /// <summary>Best-of-n accuracy by gold step labels, the oracle reranker (Wilson), where it was measured.</summary>
    public Estimate? OracleBestOfN { get; init; }

    /// <summary>Step beam search's accuracy with the model's own scores (Wilson), where it ran.</summary>
    public Estimate? Beam { get; init; }

    /// <summary>Value-guided step beam search's accuracy (Wilson), where it ran.</summary>
    public Estimate? ValueBeam { get; init; }

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
            judged.Count == 0 ? null : new SoundShare(judged.Count, judged.Count(o => o.GreedySound == true)))
        {
            VerifierBestOfN = Shares(outcomes.Select(o => o.VerifierCorrect)),
            OracleBestOfN = Shares(outcomes.Select(o => o.OracleCorrect)),
            Beam = Shares(outcomes.Select(o => o.BeamCorrect)),
            ValueBeam = Shares(outcomes.Select(o => o.ValueBeamCorrect)),
        };
    }

    private static Estimate? Shares(IEnumerable<bool?> values)
    {
        var known = values.Where(v => v is not null).ToList();
        int right = known.Count(v => v == true);
        return known.Count == 0 ? null : new Estimate(Share(right, known.Count), Intervals.Wilson(right, known.Count));
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
    /// <summary>
    /// Best-of-n reranking: given a problem and its samples' texts, one score per sample (a verifier's, aggregated over
    /// steps); the highest-scored sample's correctness is recorded, and on built-in tasks the gold-label oracle's pick beside it.
    /// </summary>
    public Func<Problem, IReadOnlyList<string>, CancellationToken, Task<IReadOnlyList<double>>>? Rerank { get; init; }

    public async Task<ProblemOutcome> EvaluateAsync(Problem problem, int index, CancellationToken cancel = default)
    {
        settings.Validate();
        var (greedy, greedyCheck) = await GreedyAsync(problem, index, cancel);
        // k = 0: greedy only, for reports that pair greedy accuracies and need nothing else (half the tokens).
        if (settings.Samples == 0)
            return new ProblemOutcome(problem.Id, greedy, greedyCheck.Extracted, greedyCheck.IsCorrect, greedyCheck.IsCorrect ? GoldSound(problem, greedy) : null,
                [], 0, 0, null, false);
        var samples = await model.CompleteAsync(Request(prompt(problem), settings.Samples, settings.Temperature, index), cancel);
        var checks = samples.Select(s => AnswerChecker.Check(s.Text, problem)).ToArray();
        int correct = checks.Count(c => c.IsCorrect);
        // maj@k votes over the first k samples, the same k that pass@k is about.
        var majority = MajorityVote.Winner(checks.Take(settings.K).Select(c => c.Extracted), problem.Kind);
        var outcome = new ProblemOutcome(problem.Id, greedy, greedyCheck.Extracted, greedyCheck.IsCorrect, greedyCheck.IsCorrect ? GoldSound(problem, greedy) : null,
            checks.Select(c => c.Extracted).ToArray(), correct, PassAtK.Estimate(checks.Length, correct, settings.K),
            majority, majority is not null && AnswerChecker.IsEquivalent(majority, problem.Answer, problem.Kind));
        if (Rerank is null) return outcome;
        var texts = samples.Select(s => s.Text).ToArray();
        int pick = BestOfN.Pick(await Rerank(problem, texts, cancel));
        int oracle = BestOfN.Pick(texts.Select(t => GoldSound(problem, t) == true ? 1.0 : 0.0).ToArray());
        return outcome with
        {
            VerifierCorrect = pick >= 0 && checks[pick].IsCorrect,
            OracleCorrect = StepJudges.Supports(problem.Family) && problem.ReferenceSteps is not null ? oracle >= 0 && checks[oracle].IsCorrect : null,
        };
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

    /// <summary>A solution's steps as search and the verifier see them: its non-empty lines, trimmed.</summary>
    public static IReadOnlyList<string> Steps(string solution) =>
        solution.Split(PreferenceTree.StepDelimiter).Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToArray();

    /// <summary>Whether every step of a solution is sound by gold step labels; null for tasks without them.</summary>
    public static bool? GoldSound(Problem problem, string solution)
    {
        if (!StepJudges.Supports(problem.Family) || problem.ReferenceSteps is null) return null;
        return StepJudges.For(problem).JudgeSolution(Steps(solution)).All(j => j.IsSound);
    }

    private CompletionRequest Request(string prompt, int n, double temperature, int index) =>
        new(prompt, n, settings.MaxTokens) { Temperature = temperature, TopP = settings.TopP, Seed = settings.Seed + index, Stop = settings.Stop };
}
