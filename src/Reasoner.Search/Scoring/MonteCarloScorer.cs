using Reasoner.Core.Answers;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;

namespace Reasoner.Search;

public sealed record MonteCarloSettings
{
    /// <summary>Roll-outs per step (Tree-PLV, arXiv 2407.00390: N = 8).</summary>
    public int Rollouts { get; init; } = 8;

    /// <summary>Token limit of one roll-out, from the step to the end of the solution.</summary>
    public int MaxTokens { get; init; } = 384;

    public double Temperature { get; init; } = 1.0;

    public double TopP { get; init; } = 1.0;

    internal void Record(SettingsRecorder recorder) => recorder
        .Add("monteCarlo.rollouts", Rollouts)
        .Add("monteCarlo.maxTokens", MaxTokens)
        .Add("monteCarlo.temperature", Temperature)
        .Add("monteCarlo.topP", TopP);
}

/// <summary>
/// The look-ahead step reward of Math-Shepherd and Tree-PLV (arXiv 2407.00390, §3.2):
/// R(step) = (1/N) Σ_j 1[answer(roll-out_j) = gold], N roll-outs from the step to the end of the solution.
/// </summary>
/// <remarks>
/// Each step's N roll-outs are one request with n = N and no stop string, so they end at end-of-sequence or the
/// token limit; a roll-out is read up to its first line with a marked answer, the rule that ends a solution in
/// <see cref="StepWorld"/>, so that whatever the model writes after its answer cannot change it. A roll-out cut by
/// the token limit before any answer counts as wrong. The depth limit does not apply to roll-outs. A terminal step
/// needs no roll-out: its value is 1 if its own answer is correct, else 0 (so the outcome scorer runs first).
/// </remarks>
public sealed class MonteCarloScorer(MonteCarloSettings settings) : IStepScorer
{
    public string Name => "monte-carlo";

    public async Task ScoreAsync(SearchSession session, IReadOnlyList<TreeNode> siblings, CancellationToken cancel)
    {
        var open = siblings.Where(n => !n.IsTerminal).ToList();
        var rollouts = await Task.WhenAll(open.Select(node => session.Model.CompleteAsync(
            new CompletionRequest(session.StateText(node), settings.Rollouts, settings.MaxTokens)
            {
                Temperature = settings.Temperature,
                TopP = settings.TopP,
                Seed = session.SeedFor(node, RequestSeeds.Rollout),
            }, cancel)));
        for (var i = 0; i < open.Count; i++)
        {
            var completions = rollouts[i];
            if (completions.Count == 0) throw new InvalidOperationException("the model returned no roll-outs");
            open[i].MonteCarloValue = completions.Count(c => ReachesReference(session, open[i], c)) / (double)completions.Count;
        }
        foreach (var terminal in siblings.Where(n => n.IsTerminal))
            ScoreTerminal(terminal);
    }

    public static void ScoreTerminal(TreeNode node) => node.MonteCarloValue = node.IsCorrect == true ? 1 : 0;

    private static bool ReachesReference(SearchSession session, TreeNode from, Completion rollout)
    {
        var lines = rollout.Text.Split(PreferenceTree.StepDelimiter);
        var answerLine = Array.FindIndex(lines, line => AnswerExtractor.ExtractMarked(line, session.Problem.Kind) is not null);
        if (answerLine < 0 && rollout.Finish == FinishReason.Length) return false;
        var taken = answerLine < 0 ? lines : lines[..(answerLine + 1)];
        var solution = session.Tree.StepsText(from) + PreferenceTree.StepDelimiter + string.Join(PreferenceTree.StepDelimiter, taken);
        return AnswerChecker.Check(solution, session.Problem).IsCorrect;
    }
}
