namespace Reasoner.Training.Onpo;

/// <summary>
/// P(y ≻ y′ | x): the preference ONPO's game is played on. It need not come from a reward, and need not be transitive.
/// </summary>
public interface IPreferenceOracle
{
    /// <summary>The probability that solution <paramref name="first"/> is preferred to <paramref name="second"/>, in [0, 1].</summary>
    Task<double> PreferAsync(OracleSolution first, OracleSolution second, CancellationToken cancel = default);
}

/// <summary>A solution as an oracle sees it: the problem as its prompt shows it, the solution's steps and, where checked, whether its answer is right.</summary>
public sealed record OracleSolution(string ProblemText, string Text, bool? Correct)
{
    /// <summary>The problem itself, for oracles that render their own prompt (the verifier oracle).</summary>
    public Core.Problems.Problem? Problem { get; init; }
}

/// <summary>The outcome oracle: a correct solution beats a wrong or unchecked one; otherwise a tie, a fair coin.</summary>
public sealed class OutcomeOracle : IPreferenceOracle
{
    public Task<double> PreferAsync(OracleSolution first, OracleSolution second, CancellationToken cancel = default) =>
        Task.FromResult((first.Correct == true, second.Correct == true) switch
        {
            (true, false) => 1.0,
            (false, true) => 0.0,
            _ => 0.5,
        });
}

/// <summary>
/// The judge oracle: a model asked which of two solutions is better (<c>prompts/judge-pair.txt</c>), its answer read from
/// the next-token probabilities of A and B. Judges favour a position, so the preference averages both orders,
/// P(y ≻ y′) = ½·(P_A(y, y′) + 1 − P_A(y′, y)), which makes P(y ≻ y′) + P(y′ ≻ y) = 1. Nothing forces it to be
/// transitive, which is the point of a general-preference method.
/// </summary>
public sealed class JudgeOracle : IPreferenceOracle
{
    private readonly Reasoner.Models.Backends.ILanguageModel judge;
    private readonly Core.Prompts.PromptTemplate template;

    public JudgeOracle(Reasoner.Models.Backends.ILanguageModel judge, Core.Prompts.PromptTemplate template)
    {
        if (!template.Placeholders.SequenceEqual(["question", "first", "second"]))
            throw new ArgumentException($"{template.Source}: a pairwise judge prompt needs the placeholders question, first and second, in that order");
        this.judge = judge;
        this.template = template;
    }

    public async Task<double> PreferAsync(OracleSolution first, OracleSolution second, CancellationToken cancel = default)
    {
        double forward = await FirstWins(first, second, cancel), backward = await FirstWins(second, first, cancel);
        return (forward + 1 - backward) / 2;
    }

    /// <summary>P(A) / (P(A) + P(B)) with <paramref name="a"/> shown as solution A.</summary>
    private async Task<double> FirstWins(OracleSolution a, OracleSolution b, CancellationToken cancel)
    {
        var prompt = template.Render(new Dictionary<string, string> { ["question"] = a.ProblemText, ["first"] = a.Text, ["second"] = b.Text });
        var scored = await judge.ScoreAsync(prompt, ["A", "B"], cancel);
        double logA = scored[0].TokenLogProbs.Sum(), logB = scored[1].TokenLogProbs.Sum();
        if (double.IsNegativeInfinity(logA) && double.IsNegativeInfinity(logB)) return 0.5;
        return 1 / (1 + Math.Exp(logB - logA));
    }
}

/// <summary>
/// The verifier oracle: a trained step verifier (<c>train plv</c>) scores both solutions, and the preference is the
/// Bradley–Terry probability its ranking loss was trained with, P(y ≻ y′) = σ(r(y) − r(y′)), r the verifier's output at
/// each solution's last step. Transitive by construction, unlike the judge.
/// </summary>
public sealed class VerifierOracle(Reasoner.Models.Scoring.IStepScoringModel verifier, Core.Prompts.PromptLibrary prompts) : IPreferenceOracle
{
    public async Task<double> PreferAsync(OracleSolution first, OracleSolution second, CancellationToken cancel = default)
    {
        var problem = first.Problem ?? throw new ArgumentException("the verifier oracle needs the problem of the solutions", nameof(first));
        var steps = new[] { first.Text, second.Text }.Select(Evaluation.Evaluator.Steps).ToArray();
        if (steps.Any(s => s.Count == 0)) return steps[0].Count > 0 ? 1 : steps[1].Count > 0 ? 0 : 0.5;
        var scores = await verifier.ScoreStepsAsync(prompts.RenderSolve(problem, verifier.ReadsBarePrompt), steps, Core.Trees.PreferenceTree.StepDelimiter, cancel);
        return Reasoner.Models.Scoring.ScorerEngine.Sigmoid(scores[0][^1] - scores[1][^1]);
    }
}
