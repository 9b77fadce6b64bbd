using Reasoner.Core.Answers;
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

/// <summary>One problem's results: the greedy solution, and n samples judged one by one.</summary>
public sealed record ProblemOutcome(Problem Problem, string GreedyText, string? GreedyAnswer, bool GreedyCorrect,
    IReadOnlyList<string?> SampleAnswers, int CorrectSamples, double PassAtK, string? MajorityAnswer, bool MajorityCorrect);

/// <summary>Accuracies over a problem set, as fractions in [0,1].</summary>
public sealed record EvalSummary(int Problems, int K, int Samples, double Greedy, double PassAtK, double MajorityAtK, double SampleAccuracy)
{
    public static EvalSummary From(IReadOnlyList<ProblemOutcome> outcomes, EvalSettings settings)
    {
        double Mean(Func<ProblemOutcome, double> f) => outcomes.Count == 0 ? 0 : outcomes.Average(f);
        return new EvalSummary(outcomes.Count, settings.K, settings.Samples,
            Mean(o => o.GreedyCorrect ? 1 : 0), Mean(o => o.PassAtK), Mean(o => o.MajorityCorrect ? 1 : 0),
            Mean(o => (double)o.CorrectSamples / Math.Max(1, o.SampleAnswers.Count)));
    }
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
        var text = prompt(problem);
        var greedy = (await model.CompleteAsync(Request(text, 1, 0.0, index), cancel))[0].Text;
        var samples = await model.CompleteAsync(Request(text, settings.Samples, settings.Temperature, index), cancel);
        var greedyCheck = AnswerChecker.Check(greedy, problem);
        var checks = samples.Select(s => AnswerChecker.Check(s.Text, problem)).ToArray();
        int correct = checks.Count(c => c.IsCorrect);
        // maj@k votes over the first k samples, the same k that pass@k is about.
        var majority = MajorityVote.Winner(checks.Take(settings.K).Select(c => c.Extracted), problem.Kind);
        return new ProblemOutcome(problem, greedy, greedyCheck.Extracted, greedyCheck.IsCorrect,
            checks.Select(c => c.Extracted).ToArray(), correct, PassAtK.Estimate(checks.Length, correct, settings.K),
            majority, majority is not null && AnswerChecker.IsEquivalent(majority, problem.Answer, problem.Kind));
    }

    private CompletionRequest Request(string prompt, int n, double temperature, int index) =>
        new(prompt, n, settings.MaxTokens) { Temperature = temperature, TopP = settings.TopP, Seed = settings.Seed + index, Stop = settings.Stop };
}
